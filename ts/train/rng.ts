/**
 * Where checkpoints get the random-number state from, so a resumed run draws the same
 * shuffles, dropout masks and augmentations as an uninterrupted one.
 *
 * Saved per checkpoint: the global generator of ts/nn/random (manualSeed / nextSeed) and the
 * stream positions of layers (Dropout). DataLoader shuffles and augmentations are functions
 * of (seed, epoch, batch), so fit's `setEpoch` call is all they need.
 */
import { globalRng } from '../nn/random.js';

export interface RngStateSource {
  /** A JSON-serialisable snapshot of the generator. */
  getState(): unknown;
  setState(state: unknown): void;
}

let override: RngStateSource | null | undefined;

/** Replaces the default source (null: save no RNG state). */
export function setDefaultRng(source: RngStateSource | null): void {
  override = source;
}

/** tread's global generator (nn/random), unless replaced with setDefaultRng. */
export function defaultRng(): RngStateSource | null {
  if (override !== undefined) return override;
  return globalRng;
}

/**
 * Random-stream positions held by layers themselves (Dropout's `seed` and `calls`: the n-th
 * training forward draws mask n), which are not part of a state dict. Saved in checkpoints
 * so a resumed run draws the masks an uninterrupted one would.
 */
export function captureModuleRng(model: unknown): Record<string, { seed: number; calls: number }> {
  const out: Record<string, { seed: number; calls: number }> = {};
  const m = model as { namedModules?: () => [string, any][] };
  if (typeof m?.namedModules !== 'function') return out;
  for (const [name, mod] of m.namedModules()) {
    if (mod && typeof mod.seed === 'number' && typeof mod.calls === 'number') out[name] = { seed: mod.seed, calls: mod.calls };
  }
  return out;
}

export function restoreModuleRng(model: unknown, state: Record<string, { seed: number; calls: number }> | undefined): void {
  if (!state) return;
  const m = model as { namedModules?: () => [string, any][] };
  if (typeof m?.namedModules !== 'function') return;
  const mods = new Map(m.namedModules());
  for (const [name, s] of Object.entries(state)) {
    const mod = mods.get(name);
    if (mod && typeof mod.calls === 'number') {
      mod.seed = s.seed;
      mod.calls = s.calls;
    }
  }
}
