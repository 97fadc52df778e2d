/**
 * The optimizer comparison page of `tread optimizers`: every optimizer of tread.optim (plus
 * SGD with heavy-ball and Nesterov momentum) on each test function, with the same step
 * budget and each one's lr tuned by tread's own grid search (tuneLearningRate), the paths
 * drawn over the function's contours. Adam, NAdam, RAdam ... run with their bias
 * corrections, as tread's kernels do. The result is data (JSON-ready) and an HTML page.
 */
import { checkNumberOption, checkOptions } from '../util/options.js';
import { escapeHtml } from '../train/report.js';
import type { OptimizerName, OptimizerPath } from './optimizer_paths.js';
import { tuneLearningRate } from './optimizer_paths.js';
import { contourSvg, PALETTE } from './svg.js';
import { standardTestFunctions, type TestFunction } from './test_functions.js';

export interface OptimizerEntry {
  label: string;
  optimizer: OptimizerName;
  options?: Record<string, unknown>;
}

export const STANDARD_ENTRIES: readonly OptimizerEntry[] = [
  { label: 'SGD', optimizer: 'SGD' },
  { label: 'SGD momentum 0.9', optimizer: 'SGD', options: { momentum: 0.9 } },
  { label: 'SGD Nesterov 0.9', optimizer: 'SGD', options: { momentum: 0.9, nesterov: true } },
  { label: 'Adagrad', optimizer: 'Adagrad' },
  { label: 'RMSprop', optimizer: 'RMSprop' },
  { label: 'Adadelta', optimizer: 'Adadelta' },
  { label: 'Adam', optimizer: 'Adam' },
  { label: 'AdamW', optimizer: 'AdamW' },
  { label: 'Adamax', optimizer: 'Adamax' },
  { label: 'NAdam', optimizer: 'NAdam' },
  { label: 'RAdam', optimizer: 'RAdam' },
];

export interface ComparisonOptions {
  functions?: readonly TestFunction[];
  entries?: readonly OptimizerEntry[];
  /** Step budget of every run (default 300). */
  steps?: number;
  /** Grid points of each lr search (default 17, log-spaced over lrRange). */
  points?: number;
  lrRange?: readonly [number, number];
  /** Grid resolution of the contour plots (default 81). */
  resolution?: number;
}

export interface FunctionComparison {
  function: string;
  runs: (OptimizerPath & { label: string; lr: number; final: number })[];
  grid: { xs: number[]; ys: number[]; z: number[][] };
  minimum: readonly [number, number] | null;
}

export async function compareOptimizers(options: ComparisonOptions = {}): Promise<FunctionComparison[]> {
  const owner = 'landscape.compareOptimizers';
  checkOptions(owner, options, ['functions', 'entries', 'steps', 'points', 'lrRange', 'resolution']);
  const steps = checkNumberOption(owner, 'steps', options.steps ?? 300, { integer: true, min: 1 });
  const res = checkNumberOption(owner, 'resolution', options.resolution ?? 81, { integer: true, min: 2, max: 1001 });
  const out: FunctionComparison[] = [];
  for (const fn of options.functions ?? standardTestFunctions()) {
    const runs: FunctionComparison['runs'] = [];
    for (const e of options.entries ?? STANDARD_ENTRIES) {
      const r = await tuneLearningRate(fn, e.optimizer, { steps, options: e.options, points: options.points, lrRange: options.lrRange });
      runs.push({ ...r, label: e.label, lr: r.options.lr as number, final: r.values[r.values.length - 1]! });
    }
    const xs = Array.from({ length: res }, (_, i) => fn.xRange[0] + ((fn.xRange[1] - fn.xRange[0]) * i) / (res - 1));
    const ys = Array.from({ length: res }, (_, j) => fn.yRange[0] + ((fn.yRange[1] - fn.yRange[0]) * j) / (res - 1));
    out.push({ function: fn.name, runs, grid: { xs, ys, z: ys.map((y) => xs.map((x) => fn.f(x, y))) }, minimum: fn.minimum });
  }
  return out;
}

export function optimizersPageHtml(results: readonly FunctionComparison[], options: { steps: number; points: number; lrRange: readonly [number, number] }): string {
  checkOptions('landscape.optimizersPageHtml', options, ['steps', 'points', 'lrRange']);
  const sections = results.map((r) => {
    const svg = contourSvg({
      xs: r.grid.xs, ys: r.grid.ys, z: r.grid.z, title: r.function,
      paths: r.runs.map((run, k) => ({ name: `${run.label} (lr ${run.lr.toPrecision(2)})`, points: run.path, color: PALETTE[k % PALETTE.length] })),
      marks: r.minimum ? [{ at: r.minimum, label: 'global minimum' }] : [],
      width: 520, height: 470,
    });
    const rows = r.runs
      .map((run, k) => `<tr><td><span class="sw" style="background:${PALETTE[k % PALETTE.length]}"></span>${escapeHtml(run.label)}</td><td>${run.lr.toPrecision(2)}</td><td>${run.diverged ? 'diverged' : run.escaped ? `escaped at step ${run.path.length - 1}` : escapeHtml(run.final.toPrecision(4))}</td></tr>`)
      .join('');
    return `<section><div>${svg}</div><table><tr><th>optimizer</th><th>tuned lr</th><th>f at the end</th></tr>${rows}</table></section>`;
  });
  return `<!doctype html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>tread: optimizers on test functions</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#222}section{display:flex;gap:20px;align-items:flex-start;margin-bottom:28px}table{border-collapse:collapse;font-size:13px}td,th{padding:2px 8px;text-align:left;border-bottom:1px solid #ddd}.sw{display:inline-block;width:10px;height:10px;margin-right:6px}</style>
</head><body><h1>Optimizers on test functions</h1>
<p>Every optimizer of <code>tread.optim</code> (the same fused wasm kernels that train networks) runs ${options.steps} steps from the same start on each function.
Each one's learning rate is tuned by tread's own <code>gridSearch</code> over ${options.points} log-spaced values in [${options.lrRange[0]}, ${options.lrRange[1]}],
scored by the mean function value over the last quarter of the steps (a diverged run scores worst; on the saddles, which have no minimum, leaving the window sooner is better). Other options are PyTorch's defaults; Adam-type methods use their bias corrections.
The star marks the global minimum; the dot marks where each run ended.</p>
${sections.join('\n')}
</body></html>`;
}
