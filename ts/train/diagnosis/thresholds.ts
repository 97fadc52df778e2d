/**
 * The thresholds of the rules, in one place, each with where it comes from. They were set
 * from the textbook rules of thumb below before the labelled suite was run, not fitted to it.
 */
export const THRESHOLDS = {
  /** Inputs whose largest |mean| or std over features exceeds this are unnormalized (standardized: ~1; images in [0,1]: <= 1). */
  inputScale: 10,
  /** Varying features whose standard deviations differ by more than this factor are on mixed scales. */
  inputSpread: 1e3,
  /** Loss at init above this multiple of log(K) is wrong (a uniform guess gives exactly log K). */
  initLossFactor: 3,
  /** Loss at init above this multiple is worth an info line. */
  initLossInfo: 1.5,
  /** A batch loss two orders of magnitude above the loss at init: the run diverged (bounded swings below it are oscillation). */
  lossBlowUp: 100,
  /** The total gradient norm grew by more than this factor from its first sample: exploding. */
  gradGrowth: 1e3,
  /** One step moving a weight matrix by more than this fraction of its size (evidence, not a trigger). */
  updateTooLarge: 1,
  /** A ReLU layer with more than this fraction of units never positive on the probe has died. */
  deadFraction: 0.5,
  /** A median bias below this before a dead ReLU: the bias killed it (default inits give |b| < 1/sqrt(fan-in)). */
  negativeBias: -0.5,
  /** Activation std of the last ReLU layer below this fraction of the first's: the signal shrinks layer by layer. */
  activationShrink: 0.1,
  /** A sigmoid/tanh layer with more than this fraction of outputs in its flat tails is saturated. */
  saturatedFraction: 0.5,
  /** A layer whose relative gradient ‖g‖/‖w‖ is below this fraction of a later layer's gets (almost) no signal: vanishing. */
  relGradRatio: 1e-2,
  /** Mean |ΔL| between consecutive batches, relative to the mean loss, above which the loss oscillates. */
  oscillation: 0.3,
  /** Update ratio ‖Δw‖/‖w‖ (median over weights) below this: the learning rate is far too low (rule of thumb ~1e-3). */
  updateTooSmall: 1e-4,
  /** Held-out error above the clean training error by more than max(this, the training error): high variance. */
  varianceGap: 0.05,
  /** The training error the user would be happy with, when not given (fit's `diagnosis.desiredError`). */
  desiredError: 0.05,
} as const;
