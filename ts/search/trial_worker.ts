/**
 * The Worker side of Study.optimizeParallel (Node worker_threads): imports the user's objective
 * module once, then runs the trials it is sent, one at a time. `trial.report()` records values
 * (and tells the study); `trial.shouldPrune()` asks the study's pruner here, against the trials
 * that had finished when this one was sent. Depends on no other part of tread but the pruners,
 * so that the objective's own `import 'tread'` is the only tread in the Worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { prunerFromSpec, type PrunerSpec } from './pruners.js';
import type { StudyTrial } from './study.js';

interface Setup {
  module: string;
  exportName: string;
  pruner: PrunerSpec | null;
  mode: 'min' | 'max';
}

class TrialPruned extends Error {
  constructor(step: number) {
    super(`pruned at step ${step}`);
    this.name = 'TrialPruned';
  }
}

const setup = workerData as Setup;
const pruner = setup.pruner ? prunerFromSpec(setup.pruner) : null;
const port = parentPort!;

async function main(): Promise<void> {
  const mod = (await import(setup.module)) as Record<string, unknown>;
  const objective = mod[setup.exportName];
  if (typeof objective !== 'function') throw new Error(`optimizeParallel: ${setup.module} exports no function '${setup.exportName}'`);
  port.on('message', async (msg: { trial: StudyTrial; others: StudyTrial[] }) => {
    const trial = msg.trial;
    let lastStep = -Infinity;
    const ctx = {
      index: trial.index,
      seed: trial.seed,
      params: trial.params,
      report(value: number, step: number): void {
        if (!(typeof step === 'number' && step > lastStep)) throw new Error(`trial ${trial.index}: report: steps must increase (got ${step} after ${lastStep})`);
        if (typeof value !== 'number') throw new Error(`trial ${trial.index}: report: value must be a number, got ${typeof value}`);
        lastStep = step;
        trial.intermediate.push([step, value]);
      },
      shouldPrune(): boolean {
        return !!pruner && trial.intermediate.length > 0 && pruner.shouldPrune(trial, lastStep, msg.others, setup.mode);
      },
      prune(): never {
        throw new TrialPruned(lastStep);
      },
    };
    try {
      const value = await (objective as (p: unknown, t: unknown) => unknown)(trial.params, ctx);
      port.postMessage({ index: trial.index, outcome: 'value', value, intermediate: trial.intermediate });
    } catch (e) {
      const pruned = (e as Error)?.name === 'TrialPruned';
      port.postMessage({ index: trial.index, outcome: pruned ? 'pruned' : 'error', error: e instanceof Error ? e.message : String(e), intermediate: trial.intermediate });
    }
  });
  port.postMessage({ ready: true });
}

main().catch((e) => port.postMessage({ fatal: e instanceof Error ? e.message : String(e) }));
