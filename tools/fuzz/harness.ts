/**
 * The fuzzing contract for tread's file readers: every input either loads a valid result or
 * is refused with an Error of tread's (SafetensorsError, CheckpointError, DataFormatError or
 * a plain Error with a message), never a RangeError/TypeError from deep inside, never a hang,
 * and a refused load changes nothing. A target generates case `i` from a seeded generator,
 * so a crash is replayed from its seed and index, or from the saved input bytes
 * (test/fixtures/fuzz/<target>-<seed>-<index>.bin, replayed by test/fuzz.test.ts).
 */
import { DataFormatError } from '../../ts/data/util.js';
import { CheckpointError } from '../../ts/train/checkpoint.js';
import { SafetensorsError } from '../../ts/train/safetensors.js';
import { FuzzRandom } from './random.js';

/** A broken promise of the reader (a valid-looking result that is not valid, a changed model after a refusal). */
export class ContractViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContractViolation';
  }
}

export interface FuzzTarget {
  readonly name: string;
  /** Builds what every case needs (seed files, a model); called once. */
  prepare(): Promise<void>;
  /** The input of one case. */
  generate(rng: FuzzRandom): Uint8Array;
  /** Reads the input; throws what the reader throws, or a ContractViolation. Resolves 'loaded' or nothing. */
  run(input: Uint8Array): Promise<void>;
}

export function isTreadError(e: unknown): boolean {
  if (e instanceof ContractViolation) return false;
  if (e instanceof SafetensorsError || e instanceof CheckpointError || e instanceof DataFormatError) return true;
  return e instanceof Error && e.constructor === Error && e.message.length > 0;
}

export interface FuzzCrash {
  target: string;
  seed: number;
  index: number;
  input: Uint8Array;
  error: string;
}

export interface FuzzReport {
  target: string;
  cases: number;
  loaded: number;
  refused: number;
  crashes: FuzzCrash[];
  ms: number;
  slowestMs: number;
  peakRssMB: number;
}

/** Runs one input against the contract: null when kept, else what went wrong. */
export async function checkOne(target: FuzzTarget, input: Uint8Array, hangMs: number, rssLimitMB = 150): Promise<{ loaded: boolean; problem: string | null; ms: number }> {
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  let loaded = false;
  let problem: string | null = null;
  try {
    await target.run(input);
    loaded = true;
  } catch (e) {
    if (!isTreadError(e)) problem = `${(e as Error)?.name ?? typeof e}: ${(e as Error)?.message ?? String(e)}`;
  }
  const ms = performance.now() - t0;
  if (problem === null && ms > hangMs) problem = `took ${ms.toFixed(0)} ms (more than ${hangMs} ms: a hang)`;
  // Memory: an input of a few MB must not make the reader allocate hundreds (a bomb).
  const grewMB = (process.memoryUsage().rss - rss0) / 2 ** 20;
  if (problem === null && grewMB > rssLimitMB) problem = `RSS grew by ${grewMB.toFixed(0)} MB in one case (more than ${rssLimitMB} MB)`;
  return { loaded, problem, ms };
}

export async function fuzz(target: FuzzTarget, options: { cases: number; seed: number; hangMs?: number; from?: number }): Promise<FuzzReport> {
  await target.prepare();
  const hangMs = options.hangMs ?? 5000;
  const report: FuzzReport = { target: target.name, cases: 0, loaded: 0, refused: 0, crashes: [], ms: 0, slowestMs: 0, peakRssMB: 0 };
  const t0 = performance.now();
  const from = options.from ?? 0;
  for (let index = from; index < from + options.cases; index++) {
    const input = target.generate(FuzzRandom.forCase(options.seed, index));
    const r = await checkOne(target, input, hangMs);
    report.cases++;
    if (r.problem) report.crashes.push({ target: target.name, seed: options.seed, index, input, error: r.problem });
    else if (r.loaded) report.loaded++;
    else report.refused++;
    report.slowestMs = Math.max(report.slowestMs, r.ms);
    if (index % 256 === 0) report.peakRssMB = Math.max(report.peakRssMB, process.memoryUsage().rss / 2 ** 20);
  }
  report.ms = performance.now() - t0;
  return report;
}
