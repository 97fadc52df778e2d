/**
 * What Dropout and Dropout2d share: the rate p, the seed of the mask stream and the position
 * in it. The n-th training forward draws mask n of the stream, so a seeded layer draws the
 * same masks in every run and on any thread count.
 */
import { Module } from '../module.js';
import { checkSeed, nextDropoutSeed } from '../random.js';

export abstract class DropoutBase extends Module {
  /** Seed of the mask stream; the n-th training forward uses draw n of it. */
  seed: number;
  /** Training forwards run so far (the position in the mask stream). */
  calls = 0;

  /** `layer` names the layer in errors; `seed` undefined draws one from the global seed (manualSeed). */
  constructor(
    readonly p: number,
    seed: number | undefined,
    layer: string,
  ) {
    super();
    if (!(typeof p === 'number' && p >= 0 && p <= 1)) throw new Error(`${layer}: p must be between 0 and 1, got ${p}`);
    this.seed = seed !== undefined ? checkSeed(seed, layer) >>> 0 : nextDropoutSeed();
  }

  override extraRepr(): string {
    return `p=${this.p}`;
  }

  /** Restarts the mask stream (the next forward draws what the first one drew). */
  reseed(seed: number = this.seed): void {
    this.seed = seed >>> 0;
    this.calls = 0;
  }
}
