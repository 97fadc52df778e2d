/**
 * `tread search`: a hyperparameter search over the learning rate and weight decay of a
 * `tread train` run, printed as a table and written to <out>/search.json.
 *
 * Every `tread train` option sets the run being tuned (model, data, epochs, schedule, ...);
 * the search's own options pick the ranges and the method. All trials share --seed (the same
 * initialisation and batch order), so the differences between them come from the
 * hyperparameters, not from luck. Defaults are small (an MLP, 3 epochs on the 8,000 digits) so a
 * search of 8 trials takes about half a minute here.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { init, runtimeInfo } from '../runtime/wasm.js';
import { atomicWriteFile } from '../train/atomic.js';
import { fitObjective, formatTrials, gridSearch, logUniform, randomSearch, successiveHalving, type SearchParam, type SearchResult, type Trial } from '../train/search.js';
import { ArgError, camel, parseTrainArgs, TRAIN_OPTIONS, type TrainArgs } from './args.js';
import { formatDuration } from './progress.js';
import { buildRun, resolveDefaults } from './setup.js';

export interface SearchArgs {
  method: 'random' | 'grid' | 'halving';
  trials: number;
  /** Learning-rate range, log scale. */
  lr: [number, number];
  /** Weight-decay range, log scale; null: weight decay stays at --weight-decay. */
  weightDecay: [number, number] | null;
  /** Grid points per range (grid search). */
  steps: number;
  objective: 'val_loss' | 'val_accuracy';
  searchSeed: number;
}

const SEARCH_FLAGS: Record<string, string> = {
  method: "random (default), grid (steps x steps points), or halving (successive halving over epochs: --epochs is the largest budget)",
  trials: 'configurations to try (random, halving; default 8)',
  'lr-range': 'learning-rate range lo:hi, sampled on a log scale (default 1e-4:3e-2)',
  'wd-range': "weight-decay range lo:hi on a log scale, or 'off' to keep --weight-decay (default 1e-5:1e-2)",
  steps: 'grid points per range (grid; default 3)',
  objective: 'what to rank by: val_loss (best epoch, lower is better; default) or val_accuracy',
  'search-seed': 'seed of the sampling (default 0); trials share the training --seed',
};

/** Defaults for the run being tuned, where `tread train`'s would make a search slow. */
const RUN_DEFAULTS: TrainArgs = { model: 'mlp', epochs: 3, schedule: 'none', progress: false, monitor: false, out: './tread-search' };

function parseRange(flag: string, v: string): [number, number] {
  const m = /^([^:]+):([^:]+)$/.exec(v);
  const lo = m ? Number(m[1]) : NaN;
  const hi = m ? Number(m[2]) : NaN;
  if (!(lo > 0) || !(hi > lo) || !Number.isFinite(hi)) throw new ArgError(`--${flag}: expected lo:hi with 0 < lo < hi (e.g. 1e-4:1e-1), got ${JSON.stringify(v)}`);
  return [lo, hi];
}

function positiveInt(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new ArgError(`--${flag}: expected a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

/** Splits argv into the search's own options and the `tread train` options of the run. */
export function parseSearchArgs(argv: string[], readConfig: (file: string) => string): { search: SearchArgs; run: TrainArgs; help: boolean } {
  const search: SearchArgs = { method: 'random', trials: 8, lr: [1e-4, 3e-2], weightDecay: [1e-5, 1e-2], steps: 3, objective: 'val_loss', searchSeed: 0 };
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [name, inline] = a.startsWith('--') ? (a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined]) : ['', undefined];
    if (!(name in SEARCH_FLAGS)) {
      rest.push(a);
      continue;
    }
    const v = inline ?? argv[++i];
    if (v === undefined) throw new ArgError(`--${name} needs a value`);
    switch (name) {
      case 'method':
        if (v !== 'random' && v !== 'grid' && v !== 'halving') throw new ArgError(`--method: expected one of random, grid, halving, got ${JSON.stringify(v)}`);
        search.method = v;
        break;
      case 'trials':
        search.trials = positiveInt(name, v);
        break;
      case 'steps':
        search.steps = positiveInt(name, v);
        break;
      case 'lr-range':
        search.lr = parseRange(name, v);
        break;
      case 'wd-range':
        search.weightDecay = v === 'off' ? null : parseRange(name, v);
        break;
      case 'objective':
        if (v !== 'val_loss' && v !== 'val_accuracy') throw new ArgError(`--objective: expected val_loss or val_accuracy, got ${JSON.stringify(v)}`);
        search.objective = v;
        break;
      case 'search-seed': {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0) throw new ArgError(`--search-seed: expected a non-negative integer, got ${JSON.stringify(v)}`);
        search.searchSeed = n;
        break;
      }
    }
  }
  const parsed = parseTrainArgs(rest, readConfig);
  // Search defaults apply to options the user left at tread train's defaults.
  const given = new Set(rest.filter((a) => a.startsWith('--')).map((a) => a.slice(2).split('=')[0].replace(/^no-/, '')));
  const run: TrainArgs = { ...parsed.args };
  const fromConfig = parsed.args.config ? new Set(Object.keys(JSON.parse(readConfig(String(parsed.args.config))) as object).map(camel)) : new Set<string>();
  for (const [k, v] of Object.entries(RUN_DEFAULTS)) {
    const flag = TRAIN_OPTIONS.find((o) => camel(o.flag) === k)!.flag;
    if (!given.has(flag) && !fromConfig.has(k)) run[k] = v;
  }
  return { search, run, help: parsed.help };
}

export function searchHelp(): string {
  const lines = [
    'Usage: tread search [search options] [tread train options]',
    '',
    'Tunes the learning rate and weight decay of a `tread train` run and prints the trials,',
    'best first; <out>/search.json keeps every trial. Runs are small by default',
    `(${Object.entries(RUN_DEFAULTS).map(([k, v]) => `${k} ${v}`).join(', ')}); any tread train option changes them.`,
    '',
    'Search options:',
    ...Object.entries(SEARCH_FLAGS).flatMap(([k, h]) => [`  --${k}`, `      ${h}`]),
    '',
    'Examples:',
    '  npx tread search                                       # 8 random trials, MLP, 3 epochs on the MNIST digits',
    '  npx tread search --method grid --steps 4 --wd-range off',
    '  npx tread search --method halving --trials 9 --epochs 9 --limit 0',
    '',
    "Run 'tread train --help' for the run's options.",
    '',
  ];
  return lines.join('\n');
}

export function searchSpace(search: SearchArgs, run: TrainArgs): Record<string, SearchParam<number> | number> {
  const space: Record<string, SearchParam<number> | number> = { lr: logUniform(search.lr[0], search.lr[1]) };
  space.weightDecay = search.weightDecay ? logUniform(search.weightDecay[0], search.weightDecay[1]) : Number(run.weightDecay);
  return space;
}

export async function searchCommand(argv: string[], log: (s: string) => void = (s) => process.stdout.write(`${s}\n`)): Promise<number> {
  let parsed: ReturnType<typeof parseSearchArgs>;
  try {
    parsed = parseSearchArgs(argv, (f) => readFileSync(f, 'utf8'));
  } catch (e) {
    if (e instanceof ArgError || e instanceof SyntaxError) {
      process.stderr.write(`tread search: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (parsed.help) {
    process.stdout.write(searchHelp());
    return 0;
  }
  const { search } = parsed;
  const base = resolveDefaults(parsed.run);
  const threads = base.threads === 'auto' ? 'auto' : Number(base.threads);
  if (threads !== 'auto' && (!Number.isInteger(threads) || threads < 1)) {
    process.stderr.write(`tread search: --threads: expected a positive integer or 'auto', got ${base.threads}\n`);
    return 2;
  }
  await init({ threads });
  const space = searchSpace(search, base);
  const ranges = `lr ${search.lr.join('..')}${search.weightDecay ? `, weight decay ${search.weightDecay.join('..')}` : `, weight decay ${base.weightDecay}`}`;
  log(`tread search: ${search.method}, ${ranges} (log scale); ranked by ${search.objective}`);
  log(`run: ${base.model} on ${base.data}${Number(base.limit) > 0 ? ` (first ${base.limit} training samples)` : ''}, ${base.optimizer}, schedule ${base.schedule}, ${base.epochs} epochs, batch ${base.batchSize}, seed ${base.seed}; ${runtimeInfo().threads} thread(s)`);

  const objective = fitObjective<Record<string, number>>(
    async (p) => {
      const run = await buildRun({ ...base, lr: p.lr, weightDecay: p.weightDecay });
      return { model: run.model, train: run.train, val: run.val, optimizer: run.optimizer, scheduler: run.scheduler, lossFn: run.lossFn, epochs: Number(base.epochs), metrics: ['accuracy'] };
    },
    { monitor: search.objective },
  );
  const onTrialEnd = (t: Trial<Record<string, number>>) =>
    log(`  trial ${t.index}${t.budget !== undefined ? ` (${t.budget} epochs)` : ''}: lr ${t.params.lr.toExponential(2)}, weight decay ${t.params.weightDecay.toExponential(2)} -> ${t.ok ? `${search.objective} ${t.score.toFixed(4)} at epoch ${t.info?.epoch}` : `failed: ${t.error}`} (${formatDuration(t.seconds)})`);
  const t0 = performance.now();
  const common = { seed: search.searchSeed, onTrialEnd };
  let result: SearchResult<Record<string, number>>;
  if (search.method === 'grid') {
    result = await gridSearch(space, objective, { ...common, steps: search.steps });
  } else if (search.method === 'halving') {
    const maxBudget = Number(base.epochs);
    result = await successiveHalving(space, objective, { ...common, trials: search.trials, minBudget: Math.max(1, Math.round(maxBudget / 9)), maxBudget, eta: 3 });
  } else {
    result = await randomSearch(space, objective, { ...common, trials: search.trials });
  }
  log('');
  log(formatTrials(result, { scoreName: search.objective }));
  const out = resolve(String(base.out));
  const file = join(out, 'search.json');
  // Atomic and never through a planted link, as tread train's outputs.
  await atomicWriteFile(file, new TextEncoder().encode(JSON.stringify({ search, run: base, mode: result.mode, trials: result.trials }, null, 2)));
  log('');
  if (!result.best) {
    log(`every trial failed (${formatDuration((performance.now() - t0) / 1000)}); see ${file}`);
    return 1;
  }
  const b = result.best;
  log(`best: --lr ${b.params.lr.toPrecision(3)} --weight-decay ${b.params.weightDecay.toPrecision(3)} (${search.objective} ${b.score.toFixed(4)}); ${result.trials.length} trials in ${formatDuration((performance.now() - t0) / 1000)}; written to ${file}`);
  return 0;
}
