/**
 * `tread optimizers`: every optimizer of tread.optim on the test functions of
 * tread.landscape (Rosenbrock, Beale, Booth, saddles, Rastrigin, an ill-conditioned quadratic,
 * noisy prototypes), each with its lr tuned by grid search, drawn as paths over contour
 * plots: <out>/optimizers.html and the numbers in <out>/optimizers.json.
 */
import { existsSync, lstatSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { init } from '../runtime/wasm.js';
import { compareOptimizers, optimizersPageHtml } from '../landscape/optimizers_page.js';
import { standardTestFunctions } from '../landscape/test_functions.js';
import { atomicWriteFile } from '../train/atomic.js';
import { didYouMean } from '../util/options.js';
import { numberFlag, walkFlags } from './flags.js';
import { ArgError } from './args.js';

const HELP = `Usage: tread optimizers [options]

Runs every optimizer of tread.optim on 2-D test functions and writes a page of their paths.

Options:
  --out DIR         output folder (default ./tread-optimizers): optimizers.html, optimizers.json
  --steps N         steps per run, the same for every optimizer (default 300)
  --points N        learning rates tried per optimizer, log-spaced over --lr-range (default 17)
  --lr-range LO:HI  (default 1e-4:1)
  --functions LIST  comma-separated names (default: all): ${standardTestFunctions().map((f) => f.name.split(' (')[0]).join(', ')}
  --overwrite       replace optimizers.html/json already in --out
`;

interface Args {
  out: string;
  steps: number;
  points: number;
  lrRange: [number, number];
  functions: string[] | null;
  overwrite: boolean;
}

function parse(argv: string[]): Args | null {
  const a: Args = { out: './tread-optimizers', steps: 300, points: 17, lrRange: [1e-4, 1], functions: null, overwrite: false };
  const go = walkFlags(argv, {
    command: 'optimizers',
    values: ['out', 'steps', 'points', 'lr-range', 'functions'],
    switches: ['overwrite'],
    flip: () => (a.overwrite = true),
    value: (flag, v) => {
      if (flag === 'out') a.out = v;
      else if (flag === 'steps') a.steps = numberFlag(flag, v, 1, 100_000);
      else if (flag === 'points') a.points = Math.max(2, numberFlag(flag, v, 1, 100_000));
      else if (flag === 'lr-range') {
        const m = /^([^:]+):([^:]+)$/.exec(v);
        const lo = m ? Number(m[1]) : NaN;
        const hi = m ? Number(m[2]) : NaN;
        if (!(lo > 0) || !(hi > lo) || !Number.isFinite(hi)) throw new ArgError(`--lr-range: expected lo:hi with 0 < lo < hi, got ${JSON.stringify(v)}`);
        a.lrRange = [lo, hi];
      } else if (flag === 'functions') a.functions = v.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
    },
  });
  return go ? a : null;
}

export async function optimizersCommand(argv: string[]): Promise<number> {
  let args: Args | null;
  try {
    args = parse(argv);
  } catch (e) {
    if (e instanceof ArgError) {
      process.stderr.write(`tread optimizers: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (args === null) {
    process.stdout.write(HELP);
    return 0;
  }
  const all = standardTestFunctions();
  const short = (n: string) => n.split(' (')[0]!.toLowerCase();
  let functions = all;
  if (args.functions) {
    const names = all.map((f) => short(f.name));
    for (const f of args.functions) {
      if (!names.includes(f)) {
        process.stderr.write(`tread optimizers: unknown function '${f}'${didYouMean(f, names)}; known: ${names.join(', ')}\n`);
        return 2;
      }
    }
    functions = all.filter((f) => args!.functions!.includes(short(f.name)));
  }
  const out = resolve(args.out);
  if (existsSync(out) && !lstatSync(out).isDirectory()) {
    process.stderr.write(`tread optimizers: --out ${args.out} exists and is not a folder\n`);
    return 2;
  }
  const files = ['optimizers.html', 'optimizers.json'].map((f) => join(out, f));
  const existing = files.filter((f) => existsSync(f));
  if (existing.length && !args.overwrite) {
    process.stderr.write(`tread optimizers: ${existing.join(', ')} already exist(s); pass --overwrite to replace, or choose another --out\n`);
    return 2;
  }
  await init();
  mkdirSync(out, { recursive: true });
  const t0 = performance.now();
  const results = await compareOptimizers({ functions, steps: args.steps, points: args.points, lrRange: args.lrRange });
  const html = optimizersPageHtml(results, { steps: args.steps, points: args.points, lrRange: args.lrRange });
  const json = JSON.stringify({ steps: args.steps, points: args.points, lrRange: args.lrRange, results: results.map((r) => ({ function: r.function, runs: r.runs.map(({ label, optimizer, options, lr, final, diverged, score, path }) => ({ label, optimizer, options, lr, final, diverged, score, path })) })) });
  const enc = new TextEncoder();
  await atomicWriteFile(files[0]!, enc.encode(html));
  await atomicWriteFile(files[1]!, enc.encode(json));
  for (const r of results) {
    const best = [...r.runs].sort((a, b) => a.score - b.score)[0]!;
    const how = best.escaped ? `escaped at step ${best.path.length - 1}` : `f ${best.final.toPrecision(3)}`;
    process.stdout.write(`${r.function.padEnd(40)} best: ${best.label} (lr ${best.lr.toPrecision(2)}, ${how})\n`);
  }
  process.stdout.write(`wrote ${files[0]} and ${files[1]} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  return 0;
}
