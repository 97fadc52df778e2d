/**
 * Study.optimizeParallel: trials run by Node worker threads at once (search/trial_worker.ts),
 * for trials that use fewer threads than the machine has cores. The study draws each trial's
 * params when a worker is free, sends it with the trials finished so far (for the pruner), and
 * keeps the results in trial order, saving the study file as they complete in order.
 */
import type { SearchSpace } from '../train/search.js';
import { checkNumberOption, checkOptions } from '../util/options.js';
import { prunerSpec } from './pruners.js';
import type { ParallelObjective, ParallelOptions } from './parallel_types.js';
import { settle, type Study, type StudyTrial } from './study.js';

export type { ParallelObjective, ParallelOptions };

/**
 * The worker: the bundled dist/trial-worker.js beside tread.js; run from the TypeScript sources
 * (tests, examples under tsx), the .ts entry loaded through tsx's loader, registered in the
 * worker by a two-line bootstrap (a Worker takes no `--import` option).
 */
function workerScript(): { script: string | URL; eval: boolean } {
  if (!import.meta.url.endsWith('.ts')) return { script: new URL('./trial-worker.js', import.meta.url), eval: false };
  const entry = new URL('./trial_worker.ts', import.meta.url).href;
  return { script: `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`, eval: true };
}

export async function runParallel(study: Study, space: SearchSpace, objective: ParallelObjective, options: ParallelOptions): Promise<void> {
  const owner = 'Study.optimizeParallel';
  checkOptions(owner, options, ['trials', 'workers', 'threadsPerWorker', 'onTrialEnd']);
  checkOptions(owner, objective, ['module', 'export'], 'objective key');
  const total = checkNumberOption(owner, 'trials', options?.trials, { integer: true, min: 1 });
  const n = checkNumberOption(owner, 'workers', options.workers ?? 2, { integer: true, min: 1, max: 64 });
  if (!objective || (typeof objective.module !== 'string' && !(objective.module instanceof URL))) throw new Error(`${owner}: objective must be { module: <URL or path of a module>, export?: name }`);
  const { Worker } = await import('node:worker_threads').catch(() => {
    throw new Error(`${owner}: needs Node's worker_threads (in a browser, run trials one after another with optimize())`);
  });
  const os = await import('node:os');
  const { pathToFileURL } = await import('node:url');
  const threads = checkNumberOption(owner, 'threadsPerWorker', options.threadsPerWorker ?? Math.max(1, Math.floor(os.availableParallelism() / n)), { integer: true, min: 1 });
  const module = objective.module instanceof URL ? objective.module.href : /^[a-z]+:/.test(objective.module) ? objective.module : pathToFileURL(objective.module).href;
  const entry = workerScript();
  const workerData = { module, exportName: objective.export ?? 'objective', pruner: study.pruner ? prunerSpec(study.pruner) : null, mode: study.mode };
  const done = new Map<number, StudyTrial>();
  let next = study.trials.length;
  const finished = () => [...study.trials, ...done.values()];
  // Saves run one after another, each writing the study as it is when that save starts. (Two
  // workers finishing together once ran two saves at the same time; the one with fewer trials
  // could land last and leave the file a trial short after optimizeParallel had returned.)
  let saving: Promise<void> = Promise.resolve();
  const save = () => (saving = saving.then(() => study.save()));
  const flush = async () => {
    // Keep the study's trials in index order: move over every finished trial that is next.
    while (done.has(study.trials.length)) {
      const t = done.get(study.trials.length)!;
      done.delete(t.index);
      study.trials.push(t);
      await save();
    }
  };
  const workers = Array.from({ length: Math.min(n, Math.max(0, total - next)) }, () =>
    new Worker(entry.script, { eval: entry.eval, workerData, env: { ...process.env, TREAD_THREADS: String(threads) } }),
  );
  try {
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            let current: { trial: StudyTrial; t0: number } | null = null;
            const dispatch = () => {
              if (next >= total) {
                resolve();
                return;
              }
              const trial = study.newTrial(space, next++, finished());
              current = { trial, t0: performance.now() };
              w.postMessage({ trial, others: finished() });
            };
            w.on('message', (m: any) => {
              if (m.fatal) return reject(new Error(`${owner}: a worker could not start: ${m.fatal}`));
              if (m.ready) return dispatch();
              const c = current!;
              c.trial.intermediate = m.intermediate;
              if (m.outcome === 'value') settle(c.trial, { value: m.value });
              else if (m.outcome === 'pruned') settle(c.trial, { pruned: true });
              else settle(c.trial, { error: new Error(m.error) });
              c.trial.seconds = (performance.now() - c.t0) / 1000;
              done.set(c.trial.index, c.trial);
              current = null;
              Promise.resolve(options.onTrialEnd?.(c.trial))
                .then(flush)
                .then(dispatch, reject);
            });
            w.on('error', reject);
            w.on('exit', (code) => {
              if (current) reject(new Error(`${owner}: a worker exited (code ${code}) during trial ${current.trial.index}`));
            });
          }),
      ),
    );
    await flush();
    await saving;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
