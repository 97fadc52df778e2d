/**
 * A training report as one self-contained HTML file: inline SVG line charts (no scripts,
 * fonts, images or style sheets from elsewhere) of loss, accuracy, learning rate and the
 * monitor's per-layer statistics per epoch, with the run's summary, warnings and diagnosis.
 *
 * Charts are made from the history's keys:
 *   loss / val_loss, *accuracy / val_*accuracy, lr,
 *   grad_norm/<param>, update_ratio/<param>, act_std/<layer>, dead_relu/<layer>
 * (the last four come from the Monitor callback). Anything else numeric goes into the table.
 */
import type { History } from './callbacks.js';
import { atomicWriteFile } from './atomic.js';
import { checkOptions } from '../util/options.js';
import { logTicks, niceTicks, tickLabel } from './chart_ticks.js';
import type { BatchLog } from './diagnosis/fit_diagnosis.js';
import type { Finding } from './diagnosis/finding.js';
import { renderDiagnosis } from './report_diagnosis.js';

export interface ReportOptions {
  title?: string;
  history: History;
  /** Key/value lines shown at the top (final accuracy, time, parameters ...). */
  summary?: Record<string, string | number>;
  warnings?: string[];
  /** Bias/variance diagnosis and advice (Monitor.diagnose()). */
  diagnosis?: string[];
  /** fit()'s findings (result.findings), shown first: the primary cause with its evidence, the rest folded. */
  findings?: Finding[];
  primaryCause?: Finding | null;
  /** fit()'s per-batch loss and lr (result.batches): curves even for a 1-epoch run. */
  batches?: BatchLog;
  /** Display names for the parameter/layer part of keys ('0.weight' -> 'Linear 0.weight'): see layerLabels(). */
  names?: Record<string, string>;
  /** The run's configuration, shown as JSON. */
  config?: unknown;
  /** The epoch whose weights the model ended with (fit's `result.best`): marked in the table. */
  best?: { epoch: number; restored?: boolean } | null;
  /**
   * The loss-landscape section made by tread itself (`landscape.landscapeHtml` /
   * `runLandscape(...).html`: SVG whose every text is already escaped). Not for user strings.
   */
  landscapeHtml?: string;
}

export interface Series {
  name: string;
  values: number[];
}

/**
 * The report needs no script, no fetch and no frame: its own inline style sheet and SVG only.
 * A report is a file people mail around, so even a value that escaped escaping could not run.
 */
export const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** Escapes text for HTML content and quoted attributes; any value (a History may hold strings or objects) becomes its String(). */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * An SVG line chart of series over epochs (x = 1..n). `logY` plots log10 of positive values.
 * Non-finite (and, on a log scale, non-positive) points break the line.
 */
export function lineChart(title: string, series: Series[], options: { logY?: boolean; width?: number; height?: number; yLabel?: string; xLabel?: string } = {}): string {
  checkOptions('lineChart', options, ['logY', 'width', 'height', 'yLabel', 'xLabel']);
  options ??= {};
  const W = options.width ?? 560;
  const H = options.height ?? 300;
  const m = { l: 62, r: 12, t: 28, b: 40 };
  const legendCols = 2;
  const legendRows = Math.ceil(series.length / legendCols);
  const plotH = H - m.t - m.b;
  const totalH = H + legendRows * 16 + 10;
  const logY = options.logY ?? false;
  const tr = (v: number) => (logY ? (v > 0 ? Math.log10(v) : NaN) : v);
  const n = Math.max(0, ...series.map((s) => s.values.length));
  const ys = series.flatMap((s) => s.values.map(tr)).filter(Number.isFinite);
  let lo = ys.length ? Math.min(...ys) : 0;
  let hi = ys.length ? Math.max(...ys) : 1;
  // Round ticks; the axis spans from the first to the last tick.
  const axis = logY ? logTicks(lo, hi) : niceTicks(lo, hi, 5);
  [lo, hi] = [axis.lo, axis.hi];
  const plotW = W - m.l - m.r;
  const x = (i: number) => m.l + (n <= 1 ? plotW / 2 : (i * plotW) / (n - 1));
  const y = (v: number) => m.t + plotH - ((v - lo) / (hi - lo)) * plotH;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${totalH}" viewBox="0 0 ${W} ${totalH}" role="img" aria-label="${escapeHtml(title)}">`);
  parts.push(`<rect x="0" y="0" width="${W}" height="${totalH}" fill="#fff"/>`);
  parts.push(`<text x="${W / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${escapeHtml(title)}</text>`);
  // Axes and grid.
  for (const v of axis.ticks) {
    const yy = y(v);
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${yy.toFixed(1)}" y2="${yy.toFixed(1)}" stroke="#e5e5e5"/>`);
    const label = tickLabel(v, logY);
    parts.push(`<text x="${m.l - 6}" y="${(yy + 4).toFixed(1)}" text-anchor="end" font-size="11" fill="#444">${label}</text>`);
  }
  // x ticks at round numbers 1..n (at most ~8, so labels never touch).
  const xTicks = n <= 8 ? Array.from({ length: n }, (_, i) => i + 1) : niceTicks(1, n, 6).ticks.filter((v) => v >= 1 && v <= n);
  for (const v of xTicks) {
    parts.push(`<text x="${x(v - 1).toFixed(1)}" y="${m.t + plotH + 16}" text-anchor="middle" font-size="11" fill="#444">${v}</text>`);
  }
  parts.push(`<text x="${m.l + plotW / 2}" y="${m.t + plotH + 32}" text-anchor="middle" font-size="11" fill="#444">${escapeHtml(options.xLabel ?? 'epoch')}</text>`);
  if (options.yLabel) {
    parts.push(`<text x="12" y="${m.t + plotH / 2}" text-anchor="middle" font-size="11" fill="#444" transform="rotate(-90 12 ${m.t + plotH / 2})">${escapeHtml(options.yLabel)}${logY ? ' (log)' : ''}</text>`);
  }
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`);
  series.forEach((s, si) => {
    const color = PALETTE[si % PALETTE.length];
    const dash = /^val_/.test(s.name) ? ' stroke-dasharray="6 3"' : '';
    let d = '';
    let pen = false;
    s.values.forEach((raw, i) => {
      const v = tr(raw);
      if (!Number.isFinite(v)) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)} ${y(v).toFixed(1)} `;
      pen = true;
    });
    if (d) parts.push(`<path d="${d.trim()}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`);
    s.values.forEach((raw, i) => {
      const v = tr(raw);
      if (Number.isFinite(v) && n <= 60) parts.push(`<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2.5" fill="${color}"><title>${escapeHtml(`${s.name} ${options.xLabel ?? 'epoch'} ${i + 1}: ${raw}`)}</title></circle>`);
    });
    const col = si % legendCols;
    const row = Math.floor(si / legendCols);
    const lx = m.l + col * (plotW / legendCols);
    const ly = H + row * 16 + 8;
    parts.push(`<line x1="${lx}" x2="${lx + 18}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="2"${dash}/>`);
    // At ~6.5 px a character, a label longer than its column would run into the next one.
    const maxChars = Math.floor((plotW / legendCols - 28) / 6.5);
    const label = s.name.length > maxChars ? `${s.name.slice(0, maxChars - 1)}…` : s.name;
    parts.push(`<text x="${lx + 22}" y="${ly}" font-size="11">${escapeHtml(label)}</text>`);
  });
  if (n === 0) parts.push(`<text x="${m.l + plotW / 2}" y="${m.t + plotH / 2}" text-anchor="middle" font-size="12" fill="#888">no data</text>`);
  parts.push('</svg>');
  return parts.join('');
}

function pick(history: History, test: (k: string) => boolean, names?: Record<string, string>): Series[] {
  return history
    .keys()
    .filter(test)
    .map((k) => {
      // 'grad_norm/0.weight' -> 'Linear 0.weight': the chart's title already says what is plotted.
      const slash = k.indexOf('/');
      const part = slash < 0 ? k : k.slice(slash + 1);
      const name = slash < 0 || !names ? k : (names[part] ?? part);
      return { name, values: history.series(k) };
    });
}

/** The whole HTML document. */
export function renderReport(opts: ReportOptions): string {
  if (opts === undefined || opts === null) throw new TypeError('renderReport: options are required ({ history, title?, ... })');
  checkOptions('renderReport', opts, ['title', 'history', 'summary', 'warnings', 'diagnosis', 'findings', 'primaryCause', 'batches', 'names', 'config', 'best', 'landscapeHtml']);
  const h = opts.history;
  const title = opts.title ?? 'tread training report';
  const charts: string[] = [];
  const add = (t: string, s: Series[], o: { logY?: boolean; yLabel?: string; xLabel?: string } = {}) => {
    if (s.length > 0 && s.some((x) => x.values.some(Number.isFinite))) charts.push(`<figure>${lineChart(t, s, o)}</figure>`);
  };
  add('Loss', pick(h, (k) => k === 'loss' || k === 'val_loss'), { yLabel: 'loss' });
  add('Accuracy', pick(h, (k) => /acc/.test(k)), { yLabel: 'accuracy' });
  add('Learning rate at the start of each epoch (the table shows each epoch\'s first → last)', pick(h, (k) => k === 'lr' || /^lr\//.test(k)), { logY: true, yLabel: 'lr' });
  const b = opts.batches;
  if (b && b.loss.length > 1) {
    add('Loss per batch', [{ name: 'loss', values: b.loss }], { yLabel: 'loss', xLabel: 'step' });
    add('Learning rate per batch', [{ name: 'lr', values: b.lr }], { logY: true, yLabel: 'lr', xLabel: 'step' });
  }
  const names = opts.names;
  add('Gradient norm per parameter', pick(h, (k) => k.startsWith('grad_norm/'), names), { logY: true, yLabel: '‖grad‖' });
  add('Update / weight ratio', pick(h, (k) => k.startsWith('update_ratio/'), names), { logY: true, yLabel: '‖Δw‖/‖w‖' });
  add('Activation std per layer', pick(h, (k) => k.startsWith('act_std/'), names), { logY: true, yLabel: 'std' });
  add('Dead ReLU fraction per layer', pick(h, (k) => k.startsWith('dead_relu/'), names), { yLabel: 'fraction' });
  const epochs = h.epochs;
  // The row of the weights the model ended with (the last row of the same epoch, for a resumed history).
  const bestRow = opts.best ? epochs.map((e) => e.epoch).lastIndexOf(opts.best.epoch) : -1;
  const isBest = (e: (typeof epochs)[number]) => bestRow >= 0 && e === epochs[bestRow];
  const bestNote = bestRow >= 0
    ? `<p class="best">★ epoch ${opts.best!.epoch + 1}: the weights the model ended with${opts.best!.restored ? ' (restored: later epochs were undone)' : ''}.</p>`
    : '';
  const keys = h.keys().filter((k) => !k.includes('/'));
  // The lr an epoch ran with: its first and last batch's rate when they differ (a per-batch
  // schedule), from the per-batch log; else the logged value (the rate at the epoch's start).
  const lrRange = new Map<number, [number, number]>();
  if (b) b.epoch.forEach((ep, i) => lrRange.set(ep, [lrRange.get(ep)?.[0] ?? b.lr[i]!, b.lr[i]!]));
  const cell = (e: (typeof epochs)[number], k: string): string => {
    if (k === 'epoch') return fmtEpoch(e[k]) + (isBest(e) ? ' ★' : '');
    const r = k === 'lr' && typeof e.epoch === 'number' ? lrRange.get(e.epoch) : undefined;
    if (r && r[0] !== r[1]) return `${fmtCell(r[0])} → ${fmtCell(r[1])}`;
    return fmtCell(e[k]);
  };
  const table = epochs.length
    ? `<table><thead><tr>${keys.map((k) => `<th>${escapeHtml(k)}</th>`).join('')}</tr></thead><tbody>${epochs
        .map((e) => `<tr${isBest(e) ? ' class="best"' : ''}>${keys.map((k) => `<td>${k in e ? escapeHtml(cell(e, k)) : ''}</td>`).join('')}</tr>`)
        .join('')}</tbody></table>${bestNote}`
    : '<p>No epochs were completed.</p>';
  const summary = opts.summary
    ? `<dl>${Object.entries(opts.summary)
        .map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(typeof v === 'number' ? fmtCell(v) : v)}</dd>`)
        .join('')}</dl>`
    : '';
  // Long lists are folded: the first FOLD items, the rest behind a <details> (no script needed).
  const FOLD = 5;
  const items = (xs: string[]) => xs.map((w) => `<li>${escapeHtml(w)}</li>`).join('');
  const list = (t: string, xs?: string[], cls = '') =>
    xs && xs.length
      ? `<h2>${escapeHtml(t)}</h2><ul class="${cls}">${items(xs.slice(0, FOLD))}</ul>${xs.length > FOLD ? `<details><summary>${xs.length - FOLD} more</summary><ul class="${cls}">${items(xs.slice(FOLD))}</ul></details>` : ''}`
      : '';
  const config = opts.config !== undefined ? `<h2>Configuration</h2><pre>${escapeHtml(JSON.stringify(opts.config, null, 2))}</pre>` : '';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">
<title>${escapeHtml(title)}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
figure{display:inline-block;margin:8px;border:1px solid #ddd;border-radius:4px}
dl{display:grid;grid-template-columns:max-content auto;gap:4px 16px}dt{font-weight:600}dd{margin:0}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
ul.warn li{color:#a33}tr.best td{background:#fff6d5;font-weight:600}.cause{border-left:4px solid #c33;background:#fdf3f3;padding:8px 12px}.cause.ok{border-color:#3a3;background:#f3fbf3}pre{background:#f6f6f6;padding:8px;overflow:auto}
</style></head><body>
<h1>${escapeHtml(title)}</h1>
${opts.findings ? renderDiagnosis(opts.findings, opts.primaryCause ?? null, escapeHtml) : ''}
${summary}
${list('Diagnosis', opts.diagnosis)}
${list('Warnings', opts.warnings, 'warn')}
<h2>Curves</h2>
<div>${charts.join('\n')}</div>
${opts.landscapeHtml ?? ''}
<h2>Per epoch</h2>
${table}
${config}
<p style="color:#888;font-size:12px">Generated by tread on ${escapeHtml(new Date().toISOString())}.</p>
</body></html>
`;
}

/** History rows count epochs from 0; the table from 1. A value that is not a number is shown as it is (escaped by the caller). */
function fmtEpoch(v: unknown): string {
  return typeof v === 'number' ? String(v + 1) : String(v);
}

function fmtCell(v: unknown): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(3) : v.toFixed(4);
}

/** Writes the report (atomically) to `file` (Node). */
export async function writeReport(file: string, opts: ReportOptions): Promise<void> {
  await atomicWriteFile(file, new TextEncoder().encode(renderReport(opts)));
}
