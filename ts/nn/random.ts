/**
 * tread's global seed for the model side (initializers, dropout): `manualSeed(seed)` makes
 * every later draw repeat from run to run. It is a small counter-based generator handing out
 * one 32-bit seed per call (`nextSeed()`); the WASM fills then use that seed with a
 * counter-based RNG (Philox4x32-10), so a given seed gives the same tensor on any thread
 * count. Other modules (dropout, shuffling) can take their seeds from `nextSeed()` too.
 *
 * Without `manualSeed` the generator starts from a fixed seed (never the clock), so runs
 * repeat by default. `getRngState()` / `setRngState()` snapshot it for checkpoints.
 */

/** The seed used before any manualSeed call. */
export const DEFAULT_SEED = 0x5eed_7ead;

let seed = DEFAULT_SEED >>> 0;
let counter = 0;

/** murmur3's 32-bit finalizer. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85eb_ca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2_ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Checks a seed option (a non-negative integer below 2^53) and returns it. */
export function checkSeed(s: unknown, where: string): number {
  if (typeof s !== 'number' || !Number.isSafeInteger(s) || s < 0) {
    throw new Error(`${where}: seed must be a non-negative integer, got ${String(s)}`);
  }
  return s;
}

/**
 * Seeds the global generator: initializers, and Dropout layers built afterwards without their
 * own seed, draw the same numbers in every run.
 */
export function manualSeed(s: number): void {
  checkSeed(s, 'manualSeed');
  seed = (fmix32((s >>> 0) ^ 0x9e37_79b9) ^ fmix32(Math.floor(s / 4294967296) + 0x7f4a_7c15)) >>> 0;
  counter = 0;
  seedDropout(seed);
}

// Dropout layers made without their own seed take the n-th seed of this stream, reset by
// manualSeed / seedDropout (kept apart from nextSeed so initialisation draws do not shift it).
let dropoutSeed = 0x5eed;
let dropoutLayers = 0;

/** Seeds Dropout layers made from now on without their own seed. */
export function seedDropout(s: number): void {
  dropoutSeed = s >>> 0;
  dropoutLayers = 0;
}

/** The seed of the next Dropout layer made without its own seed. */
export function nextDropoutSeed(): number {
  return (Math.imul(dropoutSeed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(++dropoutLayers, 0xc2b2ae35)) >>> 0;
}

/** The next 32-bit seed from the global generator (for one fill, one layer, one shuffle). */
export function nextSeed(): number {
  counter++;
  return fmix32((seed + Math.imul(counter, 0x9e37_79b9)) >>> 0 ^ fmix32(counter)) >>> 0;
}

/** A JSON-serialisable snapshot of the global generator. */
export function getRngState(): { seed: number; counter: number } {
  return { seed, counter };
}

/** Restores a snapshot from getRngState(). */
export function setRngState(state: unknown): void {
  const s = state as { seed?: unknown; counter?: unknown } | null;
  if (!s || typeof s.seed !== 'number' || typeof s.counter !== 'number') {
    throw new Error(`setRngState: expected {seed, counter} from getRngState(), got ${JSON.stringify(state)}`);
  }
  seed = s.seed >>> 0;
  counter = s.counter;
}

/** The global generator as a checkpoint RNG source (ts/train/rng's RngStateSource). */
export const globalRng = { getState: getRngState, setState: setRngState };
