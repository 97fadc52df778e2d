/**
 * The browser build's Study.optimizeParallel (rollup swaps search/parallel.ts for this file):
 * trials in parallel need Node's worker_threads; in a page, run them one after another with
 * optimize() (inside a Worker: see tread.worker). No worker URL here, so bundlers find none.
 */
import type { SearchSpace } from '../train/search.js';
import type { ParallelObjective, ParallelOptions } from './parallel_types.js';
import type { Study } from './study.js';

export type { ParallelObjective, ParallelOptions };

export async function runParallel(_study: Study, _space: SearchSpace, _objective: ParallelObjective, _options: ParallelOptions): Promise<void> {
  throw new Error("Study.optimizeParallel: needs Node's worker_threads; in a browser run the trials one after another with optimize()");
}
