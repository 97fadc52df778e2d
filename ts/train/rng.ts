/**
 * Where checkpoints get the random-number state from, so a resumed run draws the same
 * shuffles, dropout masks and augmentations as an uninterrupted one.
 */

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
  return null;
}
