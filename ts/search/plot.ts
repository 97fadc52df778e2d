/**
 * A picture of a study: every trial's score against its index and against each numeric
 * parameter (log scale for learning rates and other ranges spanning decades); complete
 * trials as dots, pruned ones as crosses, the best as a star. SVG, every label escaped.
 */
import { escapeHtml } from '../train/report.js';
import type { Study } from './study.js';

function axis(values: number[]): { log: boolean; lo: number; hi: number } {
  const pos = values.every((v) => v > 0);
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const log = pos && hi / lo > 50;
  return log ? { log, lo: Math.log10(lo), hi: Math.log10(hi) } : { log, lo, hi };
}

function panel(title: string, xs: number[], ys: number[], states: string[], bestAt: number): string {
  const W = 300;
  const H = 220;
  const m = { l: 46, r: 10, t: 22, b: 30 };
  const ax = axis(xs);
  const fy = ys.filter(Number.isFinite);
  const ay = { lo: Math.min(...fy), hi: Math.max(...fy) };
  const sx = (v: number) => m.l + (((ax.log ? Math.log10(v) : v) - ax.lo) / (ax.hi - ax.lo || 1)) * (W - m.l - m.r);
  const sy = (v: number) => m.t + (H - m.t - m.b) - ((v - ay.lo) / (ay.hi - ay.lo || 1)) * (H - m.t - m.b);
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(title)}">`];
  parts.push(`<text x="${W / 2}" y="14" text-anchor="middle" font-size="12">${escapeHtml(title)}${ax.log ? ' (log)' : ''}</text>`);
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="none" stroke="#333"/>`);
  const fmt = (v: number) => String(Number(v.toPrecision(3)));
  parts.push(`<text x="${m.l}" y="${H - 12}" font-size="10">${escapeHtml(fmt(ax.log ? 10 ** ax.lo : ax.lo))}</text><text x="${W - m.r}" y="${H - 12}" font-size="10" text-anchor="end">${escapeHtml(fmt(ax.log ? 10 ** ax.hi : ax.hi))}</text>`);
  parts.push(`<text x="${m.l - 4}" y="${m.t + 8}" font-size="10" text-anchor="end">${escapeHtml(fmt(ay.hi))}</text><text x="${m.l - 4}" y="${H - m.b}" font-size="10" text-anchor="end">${escapeHtml(fmt(ay.lo))}</text>`);
  xs.forEach((x, i) => {
    const y = ys[i]!;
    if (!Number.isFinite(y) || !Number.isFinite(x)) return;
    const cx = sx(x).toFixed(1);
    const cy = sy(y).toFixed(1);
    if (i === bestAt) parts.push(`<text x="${cx}" y="${(+cy + 5).toFixed(1)}" text-anchor="middle" font-size="15" fill="#d62728">★</text>`);
    else if (states[i] === 'pruned') parts.push(`<text x="${cx}" y="${(+cy + 4).toFixed(1)}" text-anchor="middle" font-size="11" fill="#888">×</text>`);
    else parts.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="#1f77b4"/>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

export function studySvg(study: Study): string {
  const ts = study.trials.filter((t) => t.state !== 'failed');
  if (ts.length === 0) return '<p>no finished trials</p>';
  const ys = ts.map((t) => t.score);
  const states = ts.map((t) => t.state);
  const best = study.best;
  const bestAt = best ? ts.findIndex((t) => t.index === best.index) : -1;
  const panels = [panel('score by trial', ts.map((t) => t.index), ys, states, bestAt)];
  const names = Object.keys(ts[0]!.params).filter((k) => ts.every((t) => typeof t.params[k] === 'number'));
  for (const k of names) panels.push(panel(`score by ${k}`, ts.map((t) => t.params[k] as number), ys, states, bestAt));
  return `<div class="study">${panels.join('')}</div>`;
}
