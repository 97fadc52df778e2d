/**
 * The landscape part of a report: the 1-D line (loss and accuracy against α), the 2-D plane
 * as a contour plot, and the optimizer's path on it when there is one. An HTML fragment (SVG
 * inside), every text from data escaped; the numbers go to JSON beside it.
 */
import { escapeHtml } from '../train/report.js';
import { checkOptions } from '../util/options.js';
import type { LinePath } from './line.js';
import type { Surface } from './plane.js';
import { contourSvg, linePlotSvg } from './svg.js';

export interface LandscapeFigures {
  line?: LinePath & { fromLabel: string; toLabel: string };
  surface?: Surface & { label: string };
  /** Path coordinates on the surface's plane, oldest first. */
  path?: { coords: readonly (readonly [number, number])[]; explained: readonly [number, number] };
}

/** Is the line's loss monotone decreasing from α = 0 to α = 1 (Goodfellow et al.'s observation)? */
export function monotoneBetween(line: LinePath, lo = 0, hi = 1): boolean {
  const pts = line.alphas.map((a, i) => [a, line.values[i]!.loss] as const).filter(([a]) => a >= lo - 1e-12 && a <= hi + 1e-12);
  for (let i = 1; i < pts.length; i++) if (pts[i]![1] > pts[i - 1]![1] + 1e-6 * Math.abs(pts[i - 1]![1])) return false;
  return true;
}

export function landscapeHtml(f: LandscapeFigures): string {
  checkOptions('landscape.landscapeHtml', f, ['line', 'surface', 'path']);
  const parts: string[] = ['<section class="landscape"><h2>Loss landscape</h2>'];
  if (f.line) {
    const l = f.line;
    const series = [{ name: 'loss', ys: l.values.map((v) => v.loss) }];
    const plots = [linePlotSvg({ xs: l.alphas, series, title: 'loss along (1 − α)·θ₀ + α·θ₁', xLabel: 'α', yLabel: 'loss' })];
    if (l.values.every((v) => v.accuracy !== undefined)) {
      plots.push(linePlotSvg({ xs: l.alphas, series: [{ name: 'accuracy', ys: l.values.map((v) => v.accuracy!), color: '#2ca02c' }], title: 'accuracy along the same line', xLabel: 'α', yLabel: 'accuracy' }));
    }
    parts.push(`<div style="display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start">${plots.join('')}</div>`);
    parts.push(`<p>θ₀ (α = 0): ${escapeHtml(l.fromLabel)}; θ₁ (α = 1): ${escapeHtml(l.toLabel)}.</p>`);
    parts.push(`<p>Along the straight line (Goodfellow, Vinyals &amp; Saxe 2015) the loss is ${monotoneBetween(l) ? '<b>monotone</b>' : '<b>not monotone</b>'} between α = 0 and α = 1.</p>`);
  }
  if (f.surface) {
    const s = f.surface;
    const paths = f.path ? [{ name: 'optimizer path', points: f.path.coords, color: '#ffffff' }] : [];
    parts.push(contourSvg({ xs: s.xs, ys: s.ys, z: s.loss, title: s.label, paths, width: 460, height: 420 }));
    if (f.path) {
      parts.push(`<p>The path's first two principal directions hold ${(f.path.explained[0] * 100).toFixed(1)}% and ${(f.path.explained[1] * 100).toFixed(1)}% of its variance.</p>`);
    }
  }
  parts.push('</section>');
  return parts.join('\n');
}
