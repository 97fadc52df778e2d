/**
 * SVG pictures of landscapes: a contour plot (a heat map of the grid, contour lines by
 * marching squares, optional paths on top) and a line plot. Plain strings, no DOM, so they
 * are made in Node and in a Worker alike; every text from data is escaped.
 */
import { escapeHtml } from '../train/report.js';
import { checkOptions } from '../util/options.js';

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f', '#000000'];

export interface PathSeries {
  name: string;
  points: readonly (readonly [number, number])[];
  color?: string;
}

export interface ContourOptions {
  xs: readonly number[];
  ys: readonly number[];
  /** z[j][i] at (xs[i], ys[j]); NaN/Infinity cells are left blank. */
  z: readonly (readonly number[])[];
  paths?: readonly PathSeries[];
  title?: string;
  /** Contour levels spaced in log10(z) (shifted when z <= 0; default true: losses span decades). */
  log?: boolean;
  levels?: number;
  width?: number;
  height?: number;
  /** Marks, e.g. a minimum. */
  marks?: readonly { at: readonly [number, number]; label: string }[];
}

function niceTicks(lo: number, hi: number, count = 5): number[] {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(1) : String(Number(v.toPrecision(3)));
}

/** viridis-like ramp, t in [0, 1]. */
function color(t: number): string {
  const stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  const u = Math.min(Math.max(t, 0), 1) * (stops.length - 1);
  const i = Math.min(Math.floor(u), stops.length - 2);
  const f = u - i;
  const c = stops[i]!.map((a, k) => Math.round(a + (stops[i + 1]![k]! - a) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

export function contourSvg(o: ContourOptions): string {
  checkOptions('landscape.contourSvg', o, ['xs', 'ys', 'z', 'paths', 'title', 'log', 'levels', 'width', 'height', 'marks']);
  const W = o.width ?? 420;
  const H = o.height ?? 380;
  const m = { l: 48, r: 12, t: o.title ? 26 : 10, b: 34 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const [x0, x1] = [o.xs[0]!, o.xs[o.xs.length - 1]!];
  const [y0, y1] = [o.ys[0]!, o.ys[o.ys.length - 1]!];
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0)) * pw;
  const sy = (y: number) => m.t + ph - ((y - y0) / (y1 - y0)) * ph;
  const finite = o.z.flat().filter((v) => Number.isFinite(v));
  const zmin = finite.length ? Math.min(...finite) : 0;
  const zmax = finite.length ? Math.max(...finite) : 1;
  const useLog = o.log ?? true;
  // Log levels: of z itself when all of it is positive (losses), else of z shifted to start at
  // a small positive floor (a 1e-3 of the range), so that the minimum is not a pit of -∞.
  const floor = zmin > 0 ? 0 : -zmin + 1e-3 * (zmax - zmin || 1);
  const tf = (v: number) => (useLog ? Math.log10(v + floor) : v);
  const [t0, t1] = [tf(zmin), tf(zmax)];
  const norm = (v: number) => (t1 > t0 ? (tf(v) - t0) / (t1 - t0) : 0);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(o.title ?? 'contour plot')}">`);
  if (o.title) parts.push(`<text x="${W / 2}" y="17" text-anchor="middle" font-size="13" font-weight="bold">${escapeHtml(o.title)}</text>`);
  parts.push(`<clipPath id="c${W}x${H}"><rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}"/></clipPath><g clip-path="url(#c${W}x${H})">`);
  // Heat map: one rectangle per grid point, centred on it.
  const nx = o.xs.length;
  const ny = o.ys.length;
  const cw = pw / (nx - 1);
  const ch = ph / (ny - 1);
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const v = o.z[j]![i]!;
      if (!Number.isFinite(v)) continue;
      parts.push(`<rect x="${(sx(o.xs[i]!) - cw / 2).toFixed(1)}" y="${(sy(o.ys[j]!) - ch / 2).toFixed(1)}" width="${(cw + 0.6).toFixed(1)}" height="${(ch + 0.6).toFixed(1)}" fill="${color(norm(v))}"/>`);
    }
  }
  // Contour lines by marching squares, on the transformed values.
  const levels = o.levels ?? 14;
  const seg: string[] = [];
  for (let k = 1; k <= levels; k++) {
    const lv = t0 + ((t1 - t0) * k) / (levels + 1);
    for (let j = 0; j + 1 < ny; j++) {
      for (let i = 0; i + 1 < nx; i++) {
        const c = [o.z[j]![i]!, o.z[j]![i + 1]!, o.z[j + 1]![i + 1]!, o.z[j + 1]![i]!];
        if (!c.every((v) => Number.isFinite(v))) continue;
        const t = c.map(tf);
        const corners: [number, number][] = [[o.xs[i]!, o.ys[j]!], [o.xs[i + 1]!, o.ys[j]!], [o.xs[i + 1]!, o.ys[j + 1]!], [o.xs[i]!, o.ys[j + 1]!]];
        const pts: [number, number][] = [];
        for (let e = 0; e < 4; e++) {
          const a = t[e]!;
          const b = t[(e + 1) % 4]!;
          if ((a < lv) !== (b < lv)) {
            const f = (lv - a) / (b - a);
            const [pa, pb] = [corners[e]!, corners[(e + 1) % 4]!];
            pts.push([pa[0] + f * (pb[0] - pa[0]), pa[1] + f * (pb[1] - pa[1])]);
          }
        }
        for (let p = 0; p + 1 < pts.length; p += 2) {
          seg.push(`M${sx(pts[p]![0]).toFixed(1)} ${sy(pts[p]![1]).toFixed(1)}L${sx(pts[p + 1]![0]).toFixed(1)} ${sy(pts[p + 1]![1]).toFixed(1)}`);
        }
      }
    }
  }
  if (seg.length) parts.push(`<path d="${seg.join('')}" stroke="#fff" stroke-opacity="0.45" stroke-width="0.7" fill="none"/>`);
  (o.paths ?? []).forEach((p, k) => {
    const col = p.color ?? PALETTE[k % PALETTE.length]!;
    const pts = p.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (pts.length === 0) return;
    const d = pts.map(([x, y], n) => `${n ? 'L' : 'M'}${sx(x).toFixed(1)} ${sy(y).toFixed(1)}`).join('');
    parts.push(`<path d="${d}" stroke="${escapeHtml(col)}" stroke-width="1.6" fill="none"><title>${escapeHtml(p.name)}</title></path>`);
    const [ex, ey] = pts[pts.length - 1]!;
    parts.push(`<circle cx="${sx(ex).toFixed(1)}" cy="${sy(ey).toFixed(1)}" r="2.6" fill="${escapeHtml(col)}"/>`);
  });
  for (const mk of o.marks ?? []) {
    parts.push(`<text x="${sx(mk.at[0]).toFixed(1)}" y="${(sy(mk.at[1]) + 4).toFixed(1)}" text-anchor="middle" font-size="13" fill="#fff">★<title>${escapeHtml(mk.label)}</title></text>`);
  }
  parts.push('</g>');
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  for (const v of niceTicks(x0, x1)) parts.push(`<text x="${sx(v).toFixed(1)}" y="${H - m.b + 14}" text-anchor="middle" font-size="10">${fmt(v)}</text>`);
  for (const v of niceTicks(y0, y1)) parts.push(`<text x="${m.l - 4}" y="${(sy(v) + 3).toFixed(1)}" text-anchor="end" font-size="10">${fmt(v)}</text>`);
  parts.push('</svg>');
  return parts.join('');
}

export interface LineSeries {
  name: string;
  ys: readonly number[];
  color?: string;
}

export function linePlotSvg(o: { xs: readonly number[]; series: readonly LineSeries[]; title?: string; xLabel?: string; yLabel?: string; width?: number; height?: number }): string {
  checkOptions('landscape.linePlotSvg', o, ['xs', 'series', 'title', 'xLabel', 'yLabel', 'width', 'height']);
  const W = o.width ?? 420;
  const H = o.height ?? 260;
  const m = { l: 52, r: 12, t: o.title ? 26 : 10, b: 40 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const all = o.series.flatMap((s) => s.ys.filter((v) => Number.isFinite(v)));
  const [x0, x1] = [Math.min(...o.xs), Math.max(...o.xs)];
  let [y0, y1] = all.length ? [Math.min(...all), Math.max(...all)] : [0, 1];
  if (y1 === y0) [y0, y1] = [y0 - 1, y1 + 1];
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0 || 1)) * pw;
  const sy = (y: number) => m.t + ph - ((y - y0) / (y1 - y0)) * ph;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(o.title ?? 'line plot')}">`];
  if (o.title) parts.push(`<text x="${W / 2}" y="17" text-anchor="middle" font-size="13" font-weight="bold">${escapeHtml(o.title)}</text>`);
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  for (const v of niceTicks(x0, x1)) parts.push(`<text x="${sx(v).toFixed(1)}" y="${H - m.b + 14}" text-anchor="middle" font-size="10">${fmt(v)}</text>`);
  for (const v of niceTicks(y0, y1)) parts.push(`<text x="${m.l - 4}" y="${(sy(v) + 3).toFixed(1)}" text-anchor="end" font-size="10">${fmt(v)}</text>`);
  if (o.xLabel) parts.push(`<text x="${m.l + pw / 2}" y="${H - 6}" text-anchor="middle" font-size="11">${escapeHtml(o.xLabel)}</text>`);
  if (o.yLabel) parts.push(`<text x="12" y="${m.t + ph / 2}" text-anchor="middle" font-size="11" transform="rotate(-90 12 ${m.t + ph / 2})">${escapeHtml(o.yLabel)}</text>`);
  o.series.forEach((s, k) => {
    const col = s.color ?? PALETTE[k % PALETTE.length]!;
    const d = s.ys.map((v, i) => (Number.isFinite(v) ? `${i && Number.isFinite(s.ys[i - 1]!) ? 'L' : 'M'}${sx(o.xs[i]!).toFixed(1)} ${sy(v).toFixed(1)}` : '')).join('');
    parts.push(`<path d="${d}" stroke="${escapeHtml(col)}" stroke-width="1.8" fill="none"><title>${escapeHtml(s.name)}</title></path>`);
    parts.push(`<text x="${m.l + 6}" y="${m.t + 14 + 13 * k}" font-size="11" fill="${escapeHtml(col)}">${escapeHtml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}
