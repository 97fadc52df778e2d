/** The options of Study.optimizeParallel, shared by search/parallel.ts and its browser twin. */
import type { StudyTrial } from './study.js';

export interface ParallelObjective {
  /** The module that exports the objective (a file URL or path; imported by each worker). */
  module: string | URL;
  /** Its export name (default 'objective'). */
  export?: string;
}

export interface ParallelOptions {
  /** Trials the study should have in all (those already in its file count). */
  trials: number;
  /** Worker threads at once (default 2). */
  workers?: number;
  /** tread threads in each worker (TREAD_THREADS there; default: the cores shared out, at least 1). */
  threadsPerWorker?: number;
  onTrialEnd?: (trial: StudyTrial) => void | Promise<void>;
}
