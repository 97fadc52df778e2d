/**
 * `tread landscape <checkpoint>`: the loss landscape of a model trained by `tread train`.
 * The run's options are read from the checkpoint (its `tread.training` metadata), the model
 * and data are rebuilt from them, and on a fixed evaluation set (the first --samples images of
 * the run's validation data):
 *   - the line from the initial weights (the run's seed rebuilds them exactly; or --from
 *     another checkpoint) to the checkpoint's weights, α over [-0.5, 1.5];
 *   - the plane around the checkpoint's weights along two filter-normalized random directions.
 * Writes <out>/landscape.html and <out>/landscape.json.
 */
import { existsSync, lstatSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { init } from '../runtime/wasm.js';
import type { Module } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import { applyModelTensors, loadWeights } from '../train/checkpoint.js';
import type { SafetensorsFile } from '../train/safetensors.js';
import { atomicWriteFile } from '../train/atomic.js';
import { escapeHtml } from '../train/report.js';
import { evaluationBatches, lossEvaluator } from '../landscape/evaluate.js';
import { evenly, linePath } from '../landscape/line.js';
import { ParamSpace } from '../landscape/params.js';
import { lossSurface } from '../landscape/plane.js';
import { landscapeHtml } from '../landscape/report_section.js';
import { numberFlag, walkFlags } from './flags.js';
import { ArgError, type TrainArgs } from './args.js';
import { buildRun, readRunCheckpoint, resolveDefaults } from './setup.js';

const HELP = `Usage: tread landscape <checkpoint.safetensors> [options]

The loss landscape of a model trained by 'tread train' (its options are read from the checkpoint).

Options:
  --from FILE        start of the 1-D line: another checkpoint (default: the run's initial weights)
  --samples N        evaluation images, the first N of the run's validation data (default 1000)
  --resolution N     points per axis of the 2-D plane (default 21; 41 for a fine picture)
  --range R          the plane spans [-R, R] along each direction (default 1)
  --line-points N    points of the 1-D line over α in [-0.5, 1.5] (default 41)
  --seed N           seed of the random directions (default 0)
  --batchnorm MODE   keep (default) or recompute BatchNorm statistics at every point
  --out DIR          output folder (default: the checkpoint's folder): landscape.html, landscape.json
  --overwrite        replace landscape.html/json already there
`;

interface Args {
  checkpoint: string;
  from: string | null;
  samples: number;
  resolution: number;
  range: number;
  linePoints: number;
  seed: number;
  batchNorm: 'keep' | 'recompute';
  out: string | null;
  overwrite: boolean;
}

export function parseLandscapeArgs(argv: string[]): Args | null {
  const a: Args = { checkpoint: '', from: null, samples: 1000, resolution: 21, range: 1, linePoints: 41, seed: 0, batchNorm: 'keep', out: null, overwrite: false };
  const positional: string[] = [];
  const go = walkFlags(argv, {
    command: 'landscape',
    values: ['from', 'samples', 'resolution', 'range', 'line-points', 'seed', 'batchnorm', 'out'],
    switches: ['overwrite'],
    positional: (arg) => positional.push(arg),
    flip: () => (a.overwrite = true),
    value: (flag, v) => {
      if (flag === 'from') a.from = v;
      else if (flag === 'samples') a.samples = numberFlag(flag, v, 1, 100_000);
      else if (flag === 'resolution') a.resolution = numberFlag(flag, v, 2, 201);
      else if (flag === 'range') a.range = numberFlag(flag, v, 1e-6, 1e6, false);
      else if (flag === 'line-points') a.linePoints = numberFlag(flag, v, 2, 10_001);
      else if (flag === 'seed') a.seed = numberFlag(flag, v, 0, 2 ** 31);
      else if (flag === 'batchnorm') {
        if (v !== 'keep' && v !== 'recompute') throw new ArgError(`--batchnorm: expected keep or recompute, got ${JSON.stringify(v)}`);
        a.batchNorm = v;
      } else if (flag === 'out') a.out = v;
    },
  });
  if (!go) return null;
  if (positional.length !== 1) throw new ArgError(`expected one checkpoint file, got ${positional.length ? positional.join(' ') : 'none'}; see tread landscape --help`);
  a.checkpoint = positional[0]!;
  return a;
}

export async function landscapeCommand(argv: string[]): Promise<number> {
  let args: Args | null;
  try {
    args = parseLandscapeArgs(argv);
  } catch (e) {
    if (e instanceof ArgError) {
      process.stderr.write(`tread landscape: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (args === null) {
    process.stdout.write(HELP);
    return 0;
  }
  const fail = (m: string) => (process.stderr.write(`tread landscape: ${m}\n`), 2);
  const ckpt = resolve(args.checkpoint);
  if (!existsSync(ckpt)) return fail(`no such checkpoint: ${args.checkpoint}`);
  const out = resolve(args.out ?? dirname(ckpt));
  if (existsSync(out) && !lstatSync(out).isDirectory()) return fail(`--out ${args.out} exists and is not a folder`);
  const files = ['landscape.html', 'landscape.json'].map((f) => join(out, f));
  const existing = files.filter((f) => existsSync(f));
  if (existing.length && !args.overwrite) return fail(`${existing.join(', ')} already exist(s); pass --overwrite to replace, or choose another --out`);
  await init();
  let runArgs: TrainArgs | null;
  let ckptFile: SafetensorsFile;
  try {
    ({ args: runArgs, file: ckptFile } = await readRunCheckpoint(ckpt)); // read once: options and weights
  } catch (e) {
    return fail((e as Error).message);
  }
  if (!runArgs) return fail(`${args.checkpoint} has no 'tread train' options in its metadata (it was not written by tread train); the landscape API (tread.landscape) works with any model`);
  const t0 = performance.now();
  const run = await buildRun(resolveDefaults({ ...runArgs }));
  const model = run.model as unknown as Module;
  const space = new ParamSpace(model);
  const initial = space.read(); // the run's seed rebuilds its initial weights
  let from = initial;
  let fromLabel = 'the initial weights';
  if (args.from) {
    await loadWeights(resolve(args.from), run.model);
    from = space.read();
    fromLabel = args.from;
  }
  try {
    applyModelTensors(run.model, ckptFile.tensors, { what: `checkpoint '${args.checkpoint}'` });
  } catch (e) {
    return fail((e as Error).message);
  }
  const trained = space.read();
  const batches = await evaluationBatches(run.val as Iterable<readonly Tensor[]>, args.samples);
  const rows = batches.reduce((s, [x]) => s + x.shape[0]!, 0);
  const evaluate = lossEvaluator(model, run.lossFn as any, batches, { accuracy: true, batchNorm: args.batchNorm });
  try {
    const line = linePath(model, { from, to: trained, evaluate, alphas: evenly(-0.5, 1.5, args.linePoints) });
    const surface = await lossSurface(model, { evaluate, resolution: args.resolution, seed: args.seed, xRange: [-args.range, args.range], yRange: [-args.range, args.range] });
    const seconds = (performance.now() - t0) / 1000;
    const html = `<!doctype html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>tread landscape</title><style>body{font-family:system-ui,sans-serif;margin:24px}svg{margin:8px}</style></head><body>
<h1>Loss landscape of ${escapeHtml(args.checkpoint)}</h1>
<p>${escapeHtml(String(runArgs.model))} on ${escapeHtml(String(runArgs.data))}; evaluated on the first ${rows} ${escapeHtml(run.valName)} images, BatchNorm statistics: ${args.batchNorm}; ${args.resolution}x${args.resolution} plane along filter-normalized random directions (Li et al. 2018, seed ${args.seed}); ${seconds.toFixed(1)} s.</p>
${landscapeHtml({ line: { ...line, fromLabel, toLabel: 'the checkpoint' }, surface: { ...surface, label: 'loss around the checkpoint (filter-normalized directions)' } })}
</body></html>`;
    const json = JSON.stringify({ checkpoint: args.checkpoint, from: args.from, samples: rows, batchNorm: args.batchNorm, line, surface: { xs: surface.xs, ys: surface.ys, loss: surface.loss, accuracy: surface.accuracy }, seconds });
    mkdirSync(out, { recursive: true });
    const enc = new TextEncoder();
    await atomicWriteFile(files[0]!, enc.encode(html));
    await atomicWriteFile(files[1]!, enc.encode(json));
    const at = (a: number) => line.values[line.alphas.reduce((b, x, i) => (Math.abs(x - a) < Math.abs(line.alphas[b]! - a) ? i : b), 0)]!;
    process.stdout.write(`line: loss ${at(0).loss.toFixed(4)} at α=0 -> ${at(1).loss.toFixed(4)} at α=1; plane: min ${Math.min(...surface.loss.flat()).toFixed(4)}, max ${Math.max(...surface.loss.flat()).toFixed(4)}\n`);
    process.stdout.write(`wrote ${files[0]} and ${files[1]} in ${seconds.toFixed(1)} s\n`);
  } finally {
    evaluate.restore();
    for (const [x, y] of batches) {
      x.dispose();
      y.dispose();
    }
  }
  return 0;
}
