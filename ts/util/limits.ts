/**
 * Limits on what a file tread reads may make it allocate, so that a small hostile file (a
 * gzip bomb, a header of a million entries) is refused quickly instead of filling memory.
 * The defaults are far above any real data set or model; raise them for one that is not:
 *
 *   tread.setFileLimits({ idxBytes: 4 * 2 ** 30 });
 *
 * This file depends on nothing else in tread (every layer may use it).
 */
import { checkNumberOption, checkOptions } from './options.js';

export interface FileLimits {
  /** Bytes of a safetensors header (the JSON), as safetensors' own reader: 100 MB. */
  safetensorsHeaderBytes: number;
  /** Tensors (header entries) in one safetensors file: 100,000. */
  safetensorsTensors: number;
  /** Bytes of the values of one IDX file after decompression: 1 GiB (MNIST's images are 47 MB). */
  idxBytes: number;
}

export const DEFAULT_FILE_LIMITS: Readonly<FileLimits> = Object.freeze({
  safetensorsHeaderBytes: 100_000_000,
  safetensorsTensors: 100_000,
  idxBytes: 2 ** 30,
});

const current: FileLimits = { ...DEFAULT_FILE_LIMITS };
const KEYS = Object.keys(DEFAULT_FILE_LIMITS) as (keyof FileLimits)[];

/** Checks a partial set of limits (positive integers, known names). */
export function checkFileLimits(owner: string, limits: unknown): Partial<FileLimits> {
  checkOptions(owner, limits, KEYS, 'limit');
  const l = (limits ?? {}) as Partial<FileLimits>;
  for (const k of KEYS) if (l[k] !== undefined) checkNumberOption(owner, k, l[k], { min: 1, integer: true });
  return l;
}

/** Changes the limits for every later read (only the keys given). Returns the limits now in force. */
export function setFileLimits(limits: Partial<FileLimits>): FileLimits {
  Object.assign(current, checkFileLimits('setFileLimits', limits));
  return { ...current };
}

/** The limits in force, overridden by `overrides` (a call's own options). */
export function fileLimits(overrides: Partial<FileLimits> = {}): FileLimits {
  return { ...current, ...checkFileLimits('fileLimits', overrides) };
}

/** The sentence an error adds on how to raise a limit. */
export function raiseHint(key: keyof FileLimits, value: number): string {
  return `the limit is ${key} = ${value}; if the file is genuine, raise it with tread.setFileLimits({ ${key}: ... })`;
}
