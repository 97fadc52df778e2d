/**
 * Measurements the rules read, each a small pure function over plain arrays (so each can be
 * checked against a naive version): input statistics per feature, dead and saturated units
 * of a layer's output on the probe, identical units of a weight matrix, norms in float64.
 */

/** ‖x‖₂ summed in float64 (JS numbers): a finite gradient of norm 1e30 stays finite. */
export function norm2(d: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < d.length; i++) s += d[i] * d[i];
  return Math.sqrt(s);
}

export interface InputStats {
  features: number;
  rows: number;
  /** Largest |mean| over features, and which feature. */
  maxAbsMean: number;
  maxAbsMeanFeature: number;
  /** Largest standard deviation over features, and which. */
  maxStd: number;
  maxStdFeature: number;
  /** Smallest standard deviation among features that vary (std > 0). */
  minVaryingStd: number;
  /** Features whose value never changes on the probe. */
  constantFeatures: number;
  /** Non-finite values in the probe. */
  nonFinite: number;
}

/** Per-feature mean/std of [rows, perRow] data (a feature: one position of a sample). */
export function inputStats(data: Float32Array, rows: number, perRow: number): InputStats {
  const mean = new Float64Array(perRow);
  const sq = new Float64Array(perRow);
  let nonFinite = 0;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < perRow; j++) {
      const v = data[r * perRow + j];
      if (!Number.isFinite(v)) {
        nonFinite++;
        continue;
      }
      mean[j] += v;
      sq[j] += v * v;
    }
  }
  const s: InputStats = { features: perRow, rows, maxAbsMean: 0, maxAbsMeanFeature: 0, maxStd: 0, maxStdFeature: 0, minVaryingStd: Infinity, constantFeatures: 0, nonFinite };
  for (let j = 0; j < perRow; j++) {
    const m = mean[j] / rows;
    const sd = Math.sqrt(Math.max(0, sq[j] / rows - m * m));
    if (Math.abs(m) > s.maxAbsMean) [s.maxAbsMean, s.maxAbsMeanFeature] = [Math.abs(m), j];
    if (sd > s.maxStd) [s.maxStd, s.maxStdFeature] = [sd, j];
    // Below float32 resolution of the mean counts as constant.
    if (sd <= 1e-6 * Math.max(1, Math.abs(m))) s.constantFeatures++;
    else s.minVaryingStd = Math.min(s.minVaryingStd, sd);
  }
  return s;
}

export interface UnitStats {
  units: number;
  /** Fraction of units never positive on any probe sample (after a ReLU). */
  dead: number;
  /** Fraction of outputs in the flat tails of a sigmoid/tanh (|tanh| > 0.99, sigmoid < 0.01 or > 0.99). */
  saturated: number;
  mean: number;
  std: number;
}

/** Statistics of one layer's output [rows, units...] on the probe. */
export function unitStats(d: Float32Array, rows: number, kind: string): UnitStats {
  const units = rows > 0 ? d.length / rows : 0;
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < d.length; i++) {
    s += d[i];
    s2 += d[i] * d[i];
  }
  const mean = d.length ? s / d.length : 0;
  const std = d.length ? Math.sqrt(Math.max(0, s2 / d.length - mean * mean)) : 0;
  let dead = 0;
  if (/^ReLU$/i.test(kind)) {
    for (let u = 0; u < units; u++) {
      let alive = false;
      for (let r = 0; r < rows && !alive; r++) if (d[r * units + u] > 0) alive = true;
      if (!alive) dead++;
    }
  }
  let sat = 0;
  if (/^Tanh$/i.test(kind)) for (let i = 0; i < d.length; i++) sat += Math.abs(d[i]) > 0.99 ? 1 : 0;
  else if (/^Sigmoid$/i.test(kind)) for (let i = 0; i < d.length; i++) sat += d[i] < 0.01 || d[i] > 0.99 ? 1 : 0;
  return { units, dead: units ? dead / units : 0, saturated: d.length ? sat / d.length : 0, mean, std };
}

/**
 * How many distinct units (rows of a weight [out, in...]) a layer has: rows equal to an
 * earlier row within a relative tolerance count once. A layer whose units are all equal
 * computes one feature however wide it is (symmetry was never broken).
 */
export function distinctRows(w: Float32Array, rows: number, tol = 1e-6): number {
  if (rows <= 1) return rows;
  const per = w.length / rows;
  const reps: number[] = [];
  for (let r = 0; r < rows; r++) {
    let same = false;
    for (const q of reps) {
      let diff = 0;
      let scale = 0;
      for (let j = 0; j < per; j++) {
        diff = Math.max(diff, Math.abs(w[r * per + j] - w[q * per + j]));
        scale = Math.max(scale, Math.abs(w[q * per + j]));
      }
      if (diff <= tol * Math.max(scale, 1e-12)) {
        same = true;
        break;
      }
    }
    if (!same) {
      reps.push(r);
      // Enough to know the layer is not symmetric; the exact count of a wide layer is not needed.
      if (reps.length > 8) return rows;
    }
  }
  return reps.length;
}
