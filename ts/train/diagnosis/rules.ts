/**
 * The rules: RunStats in, findings out (unranked). Each rule measures one class of failure
 * the way the course teaches to look for it. A symptom that did not stop the model from
 * fitting its training data (dead units in a run at 1% training error) is reported as
 * 'info', never as a warning: only a run that fits poorly, diverged or went non-finite has
 * training-dynamics problems worth a warning. Symmetry, data and non-finite values are
 * warnings or errors on their own.
 */
import { jsonNumber, fmt, pct, type Finding, type FindingKind, type Severity } from './finding.js';
import type { RunStats } from './run_stats.js';
import { THRESHOLDS as T } from './thresholds.js';
import { checkNumberOption, checkOptions } from '../../util/options.js';

export interface RuleOptions {
  /** The training error the user would be happy with (default 0.05). */
  desiredError?: number;
}

interface Ctx {
  s: RunStats;
  desired: number;
  /** The final model fits its training data worse than desired (or diverged). */
  poor: boolean;
  /** A sentence on how the training error was measured. */
  fitText: string;
  finalLoss: number;
}

function mean(a: number[]): number {
  return a.length ? a.reduce((x, y) => x + y, 0) / a.length : NaN;
}

function median(a: number[]): number {
  if (!a.length) return NaN;
  const b = [...a].sort((x, y) => x - y);
  const m = b.length >> 1;
  return b.length % 2 ? b[m] : (b[m - 1] + b[m]) / 2;
}

function finding(kind: FindingKind, severity: Severity, f: Partial<Finding> & { evidence: string; advice: string }): Finding {
  return { kind, severity, where: null, epoch: null, step: null, value: null, threshold: null, ...f };
}

function lastDefined<T>(a: (T | null | undefined)[]): { v: T; i: number } | null {
  for (let i = a.length - 1; i >= 0; i--) if (a[i] != null) return { v: a[i] as T, i };
  return null;
}

function context(s: RunStats, desired: number): Ctx {
  const finite = s.batchLoss.filter(Number.isFinite);
  const tail = finite.slice(-Math.max(1, Math.ceil(finite.length * 0.1)));
  const finalLoss = s.cleanTrain?.loss ?? mean(tail);
  const err = s.cleanTrain?.error ?? null;
  let poor: boolean;
  let fitText: string;
  const how = s.cleanTrain?.how === 'clean' ? `clean training error (eval mode, no augmentation, ${s.cleanTrain.samples} samples)` : 'training error (running mean over the last epoch, dropout on)';
  if (err !== null) {
    poor = err > desired;
    fitText = `${how} ${pct(err)}, desired <= ${pct(desired)} (diagnosis.desiredError)`;
  } else {
    poor = s.initLoss !== null && Number.isFinite(finalLoss) ? finalLoss > 0.5 * s.initLoss : true;
    fitText = `training loss ${fmt(finalLoss)} from ${fmt(s.initLoss)} at init`;
  }
  if (s.nonFinite) poor = true;
  return { s, desired, poor, fitText, finalLoss };
}

/** At most 4 items, then "and N more layers". */
function fold(items: string[]): string {
  return items.length <= 4 ? items.join(', ') : `${items.slice(0, 4).join(', ')} and ${items.length - 4} more layers`;
}

const warnIfPoor = (c: Ctx): Severity => (c.poor ? 'warning' : 'info');

function dataRules(c: Ctx, out: Finding[]): void {
  const { s } = c;
  const inp = s.input;
  if (inp && inp.nonFinite > 0) {
    out.push(finding('data', 'error', { value: inp.nonFinite, threshold: 0, evidence: `${inp.nonFinite} non-finite values (NaN/Inf) in the first ${inp.rows} training inputs`, advice: 'clean or impute the data before training' }));
  }
  if (inp && inp.features > 0 && inp.constantFeatures === inp.features) {
    out.push(finding('data', 'error', { value: inp.constantFeatures, evidence: `every input feature is constant over the first ${inp.rows} training samples`, advice: 'check the data loading: the inputs carry no information' }));
  }
  if (s.labelsOutOfRange > 0 && s.classes !== null) {
    out.push(finding('data', 'error', { value: s.labelsOutOfRange, threshold: 0, evidence: `${s.labelsOutOfRange} targets outside [0, ${s.classes}) in the first ${inp?.rows ?? 'probe'} samples`, advice: 'check the labels and the size of the output layer' }));
  }
  if (s.distinctLabels === 1 && s.classes !== null && s.classes > 1 && (inp?.rows ?? 0) >= 32) {
    out.push(finding('data', warnIfPoor(c), { value: 1, evidence: `the first ${inp?.rows} training samples all have the same label`, advice: 'shuffle the training data (DataLoader { shuffle: true }); sorted batches train badly' }));
  }
}

function inputRules(c: Ctx, out: Finding[], diverged: boolean): void {
  const inp = c.s.input;
  if (!inp || inp.features === 0) return;
  const scale = Math.max(inp.maxAbsMean, inp.maxStd);
  const spread = Number.isFinite(inp.minVaryingStd) && inp.minVaryingStd > 0 ? inp.maxStd / inp.minVaryingStd : 1;
  const sev: Severity = c.poor || diverged ? 'warning' : 'info';
  if (scale > T.inputScale) {
    const which = inp.maxAbsMean >= inp.maxStd ? `feature ${inp.maxAbsMeanFeature} has mean ${fmt(inp.maxAbsMean)}` : `feature ${inp.maxStdFeature} has std ${fmt(inp.maxStd)}`;
    out.push(finding('unnormalized-inputs', sev, { value: scale, threshold: T.inputScale, evidence: `inputs are not normalized: ${which} over the first ${inp.rows} training samples (standardized inputs have mean 0, std 1)`, advice: 'standardize each feature with the training set\'s mean and std (data.StandardScaler / transforms.Normalize)' }));
  } else if (spread > T.inputSpread) {
    out.push(finding('unnormalized-inputs', sev, { value: spread, threshold: T.inputSpread, evidence: `input features are on mixed scales: std from ${fmt(inp.minVaryingStd)} to ${fmt(inp.maxStd)} (feature ${inp.maxStdFeature})`, advice: 'standardize each feature (data.StandardScaler)' }));
  }
}

function symmetryRules(c: Ctx, out: Finding[]): void {
  for (const sym of c.s.symmetry) {
    if (sym.distinct === 1) {
      out.push(finding('symmetry', 'warning', { where: sym.label, value: sym.distinct, threshold: 1, evidence: `all ${sym.rows} units of '${sym.label}' are identical at the end of training: the layer computes one feature`, advice: 'initialize weights randomly (the default init, or nn.init.kaimingNormal_); a constant init never breaks the symmetry' }));
    }
  }
}

function initLossRule(c: Ctx, out: Finding[]): void {
  const { s } = c;
  if (s.classes === null || s.initLoss === null || !Number.isFinite(s.initLoss)) return;
  const expected = Math.log(s.classes);
  const ratio = s.initLoss / expected;
  if (ratio <= T.initLossInfo) return;
  const sev: Severity = ratio > T.initLossFactor && c.poor ? 'warning' : 'info';
  out.push(finding('loss-at-init', sev, { epoch: s.firstEpoch, step: 0, value: s.initLoss, threshold: expected * T.initLossFactor, evidence: `the loss at init is ${fmt(s.initLoss)}, ${fmt(ratio)}x log(${s.classes}) = ${fmt(expected)} (what a uniform guess over ${s.classes} classes gives)`, advice: 'scale down the last layer\'s initial weights (and check the input scale) so the first predictions are near uniform' }));
}

/** Divergence: the loss blew up, the gradient norm grew by orders of magnitude, or updates outgrew the weights. Returns whether it fired. */
function explodingRule(c: Ctx, out: Finding[]): boolean {
  const { s } = c;
  const reasons: string[] = [];
  let value: number | null = null;
  let threshold: number | null = null;
  let step: number | null = null;
  const init = s.initLoss;
  const losses = s.batchLoss;
  if (init !== null && init > 0 && losses.length) {
    let maxI = 0;
    losses.forEach((v, i) => (v > losses[maxI] || (!Number.isFinite(v) && Number.isFinite(losses[maxI])) ? (maxI = i) : 0));
    if (losses[maxI] > T.lossBlowUp * init) {
      reasons.push(`the batch loss rose to ${fmt(losses[maxI])} (${fmt(losses[maxI] / init)}x the loss at init)`);
      [value, threshold, step] = [losses[maxI], T.lossBlowUp * init, maxI];
    }
  }
  const g = s.gradNorms;
  const first = g.find((v) => v > 0 && Number.isFinite(v));
  if (first !== undefined) {
    let maxJ = 0;
    g.forEach((v, j) => (v > g[maxJ] ? (maxJ = j) : 0));
    if (g[maxJ] > T.gradGrowth * first) {
      reasons.push(`the gradient norm grew from ${fmt(first)} to ${fmt(g[maxJ])} (step ${s.gradNormSteps[maxJ]})`);
      if (value === null) [value, threshold, step] = [g[maxJ], T.gradGrowth * first, s.gradNormSteps[maxJ]];
    }
  }
  if (!reasons.length) return false;
  for (const p of s.params) {
    if (!p.isWeight) continue;
    const big = p.epochs.findIndex((e) => e !== null && e.update > T.updateTooLarge);
    if (big >= 0) {
      reasons.push(`one step moved '${p.label}' by ${fmt(p.epochs[big]!.update)} of its size (epoch ${s.firstEpoch + big + 1})`);
      break;
    }
  }
  if (!c.poor) {
    out.push(finding('exploding', 'info', { value: jsonNumber(value!), threshold, step, evidence: `${reasons.join('; ')}, but the model fits (${c.fitText})`, advice: 'a lower learning rate or gradient clipping would make the run steadier' }));
    return false;
  }
  out.push(finding('exploding', 'warning', { value: jsonNumber(value!), threshold, step, evidence: `${reasons.join('; ')}${s.nonFinite ? `; then the ${s.nonFinite.what} went non-finite` : ''}`, advice: 'lower the learning rate (try 10x lower), clip gradients (clipGradNorm: 1), or add BatchNorm' }));
  return true;
}

function nonFiniteRule(c: Ctx, out: Finding[]): void {
  const nf = c.s.nonFinite;
  if (!nf) return;
  out.push(finding('non-finite', 'error', { where: null, epoch: nf.epoch, step: nf.step, value: jsonNumber(nf.value), threshold: null, evidence: `the ${nf.what} was ${nf.value} at step ${nf.step}: ${nf.where}`, advice: 'training stopped and the last good state was restored; look at what precedes this finding' }));
}

function unitRules(c: Ctx, out: Finding[]): void {
  const dead: string[] = [];
  const sat: string[] = [];
  let worstDead: { label: string; path: string; v: number; epoch: number } | null = null;
  let worstSat: { label: string; v: number; epoch: number } | null = null;
  for (const l of c.s.layers) {
    const last = lastDefined(l.epochs);
    if (!last) continue;
    const ep = c.s.firstEpoch + last.i;
    if (/relu/i.test(l.kind) && last.v.dead > T.deadFraction) {
      dead.push(`${pct(last.v.dead)} of '${l.label}'`);
      if (!worstDead || last.v.dead > worstDead.v) worstDead = { label: l.label, path: l.path, v: last.v.dead, epoch: ep };
    }
    if (/sigmoid|tanh/i.test(l.kind) && last.v.saturated > T.saturatedFraction) {
      sat.push(`${pct(last.v.saturated)} of '${l.label}'`);
      if (!worstSat || last.v.saturated > worstSat.v) worstSat = { label: l.label, v: last.v.saturated, epoch: ep };
    }
  }
  const probeRows = c.s.input?.rows ?? 0;
  if (worstDead) {
    const why = deadCause(c, worstDead.path);
    out.push(finding('dying-relu', warnIfPoor(c), { where: worstDead.label, epoch: worstDead.epoch, value: worstDead.v, threshold: T.deadFraction, evidence: `units never positive on the ${probeRows} probe samples: ${fold(dead)}${why.evidence}${c.poor ? '' : ` (the model still fits: ${c.fitText})`}`, advice: why.advice }));
  }
  if (worstSat) {
    out.push(finding('saturation', warnIfPoor(c), { where: worstSat.label, epoch: worstSat.epoch, value: worstSat.v, threshold: T.saturatedFraction, evidence: `outputs in the flat tails on the ${probeRows} probe samples: ${fold(sat)}`, advice: 'scale the init down (Xavier for tanh/sigmoid), normalize the inputs, or use ReLU with BatchNorm' }));
  }
}

/** The bias of the layer just before a ReLU at `path` in a Sequential ('3' -> '2.bias', 'f.3' -> 'f.2.bias'). */
function biasBefore(c: Ctx, path: string): { name: string; v: number } | null {
  const m = /^(.*?)(\d+)$/.exec(path);
  if (!m || Number(m[2]) === 0) return null;
  const name = `${m[1]}${Number(m[2]) - 1}.bias`;
  const v = c.s.biasMedian[name];
  return v === undefined ? null : { name, v };
}

/**
 * Why the units died, as far as the numbers say: biases pushed far below zero, activations
 * that shrink layer by layer (an init too small for ReLU), or else the usual suspects.
 */
function deadCause(c: Ctx, path: string): { evidence: string; advice: string } {
  const b = biasBefore(c, path);
  if (b && b.v < T.negativeBias) return { evidence: `; the biases of '${b.name}' sit around ${fmt(b.v)}`, advice: 'initialize the biases at 0 (or slightly positive) and check what pushes them down (a learning rate too high)' };
  const relus = c.s.layers.filter((l) => /relu/i.test(l.kind) && l.epochs[0] && l.epochs[0].std > 0);
  if (relus.length >= 3) {
    const [a, z] = [relus[0], relus[relus.length - 1]];
    if (z.epochs[0]!.std < T.activationShrink * a.epochs[0]!.std) {
      return { evidence: `; after the first epoch the activation std falls from ${fmt(a.epochs[0]!.std)} at '${a.label}' to ${fmt(z.epochs[0]!.std)} at '${z.label}'`, advice: 'use He init for the ReLU layers (nn.init.kaimingNormal_), or BatchNorm' };
    }
  }
  return { evidence: '', advice: 'check the biases\' and weights\' init, lower the learning rate, or use LeakyReLU' };
}

/**
 * Vanishing: an earlier weight's relative gradient ‖g‖/‖w‖ is a tiny fraction of a later
 * one's (median over epochs): the signal does not reach the first layers. Judged against
 * other layers and the weights, not against an absolute norm.
 */
function vanishingRule(c: Ctx, out: Finding[]): void {
  const weights = c.s.params.filter((p) => p.isWeight);
  if (weights.length < 2) return;
  const epochs = Math.max(...weights.map((w) => w.epochs.length));
  const ratios: { r: number; lo: string; hi: string; loV: number; hiV: number }[] = [];
  for (let e = 0; e < epochs; e++) {
    const rel = weights.map((w) => w.epochs[e]?.relGrad ?? NaN);
    if (rel.some((v) => !Number.isFinite(v))) continue;
    // The smallest ratio of an earlier layer's relative gradient to a later one's.
    let best = { r: Infinity, lo: '', hi: '', loV: 0, hiV: 0 };
    let maxLater = -Infinity;
    let maxLaterName = '';
    for (let i = rel.length - 1; i >= 0; i--) {
      if (maxLater > 0) {
        const r = rel[i] / maxLater;
        if (r < best.r) best = { r, lo: weights[i].label, hi: maxLaterName, loV: rel[i], hiV: maxLater };
      }
      if (rel[i] > maxLater) [maxLater, maxLaterName] = [rel[i], weights[i].label];
    }
    if (Number.isFinite(best.r)) ratios.push(best);
  }
  if (!ratios.length) return;
  const mid = [...ratios].sort((a, b) => a.r - b.r)[ratios.length >> 1];
  if (!(mid.r < T.relGradRatio)) return;
  out.push(finding('vanishing', warnIfPoor(c), { where: mid.lo, value: mid.r, threshold: T.relGradRatio, evidence: `the relative gradient ‖g‖/‖w‖ of '${mid.lo}' is ${fmt(mid.loV)}, ${fmt(mid.r)} of '${mid.hi}' (${fmt(mid.hiV)}; median over ${ratios.length} epochs): the first layers barely learn`, advice: 'use ReLU with He init (nn.init.kaimingNormal_), BatchNorm, residual connections, or fewer layers' }));
}

function oscillationRule(c: Ctx, out: Finding[]): void {
  const L = c.s.batchLoss.filter(Number.isFinite);
  if (L.length < 8) return;
  const half = L.slice(L.length >> 1);
  let jump = 0;
  for (let i = 1; i < half.length; i++) jump += Math.abs(half[i] - half[i - 1]);
  const m = mean(half);
  const rel = jump / (half.length - 1) / Math.max(m, 1e-12);
  if (!(rel > T.oscillation)) return;
  out.push(finding('oscillating', warnIfPoor(c), { value: rel, threshold: T.oscillation, evidence: `in the second half of training the loss jumps by ${pct(rel)} of its mean (${fmt(m)}) from one batch to the next, without settling`, advice: 'lower the learning rate (try 3-10x lower) or use a larger batch' }));
}

function slowRule(c: Ctx, out: Finding[]): void {
  const { s } = c;
  const last: number[] = [];
  for (const p of s.params) {
    if (!p.isWeight) continue;
    const e = lastDefined(p.epochs);
    if (e && Number.isFinite(e.v.update)) last.push(e.v.update);
  }
  const u = median(last);
  if (!(u < T.updateTooSmall)) return;
  const lr = s.batchLr[s.batchLr.length - 1];
  out.push(finding('slow-convergence', warnIfPoor(c), { value: u, threshold: T.updateTooSmall, evidence: `one step changes the weights by ${fmt(u)} of their size (median over weights; rule of thumb ~1e-3) at lr ${fmt(lr)}; ${c.fitText}`, advice: 'raise the learning rate (try 10-100x; a learning-rate range test finds it)' }));
}

function biasVarianceRules(c: Ctx, out: Finding[]): void {
  const { s } = c;
  const ct = s.cleanTrain;
  const name = s.heldOutName;
  const hErr = lastDefined(s.heldOutError.map((v) => (Number.isFinite(v) ? v : null)));
  const hLoss = lastDefined(s.heldOutLoss.map((v) => (Number.isFinite(v) ? v : null)));
  const label = ct?.how === 'clean' ? 'clean training error' : 'training error (running mean, dropout on)';
  if (ct && ct.error !== null && hErr) {
    const gap = hErr.v - ct.error;
    if (gap > Math.max(T.varianceGap, ct.error)) {
      let rise = '';
      const vl = s.heldOutLoss;
      if (vl.length >= 3) {
        let b = 0;
        vl.forEach((v, i) => (v < vl[b] ? (b = i) : 0));
        if (b <= vl.length - 3 && vl[vl.length - 1] > vl[b] * 1.05) rise = `; ${name} loss was lowest at epoch ${s.firstEpoch + b + 1} (${fmt(vl[b])}) and rose to ${fmt(vl[vl.length - 1])}`;
      }
      out.push(finding('overfitting', 'warning', { epoch: s.firstEpoch + hErr.i, value: gap, threshold: Math.max(T.varianceGap, ct.error), evidence: `${name} error ${pct(hErr.v)} vs ${label} ${pct(ct.error)}: a gap of ${pct(gap)}${rise}`, advice: 'more data or augmentation, weight decay or dropout, a smaller model, or early stopping' }));
    }
  } else if (ct && hLoss && hLoss.v > 1.5 * ct.loss + 1e-3 && ct.error === null) {
    out.push(finding('overfitting', 'warning', { epoch: s.firstEpoch + hLoss.i, value: hLoss.v, threshold: 1.5 * ct.loss, evidence: `${name} loss ${fmt(hLoss.v)} vs ${label.replace('error', 'loss')} ${fmt(ct.loss)}`, advice: 'more data or augmentation, weight decay or dropout, a smaller model, or early stopping' }));
  }
  if (ct && ct.error !== null && ct.error > c.desired) {
    out.push(finding('underfitting', 'warning', { value: ct.error, threshold: c.desired, evidence: `${label} ${pct(ct.error)} on ${ct.how === 'clean' ? `${ct.samples} training samples` : 'the last epoch'}, above the desired ${pct(c.desired)} (the error you would accept: fit's diagnosis.desiredError, the CLI's per-dataset target)`, advice: 'a bigger model (more units or layers), training longer, a better optimizer or schedule, or less regularization' }));
  }
}

/** All findings of a run, unranked. */
export function runRules(s: RunStats, options: RuleOptions = {}): Finding[] {
  checkOptions('diagnoseRun', options, ['desiredError']);
  options ??= {};
  const desired = options.desiredError === undefined ? T.desiredError : checkNumberOption('diagnoseRun', 'desiredError', options.desiredError, { min: 0, max: 1 });
  const c = context(s, desired);
  const out: Finding[] = [];
  dataRules(c, out);
  const tmp: Finding[] = [];
  const diverged = explodingRule(c, tmp);
  inputRules(c, out, diverged);
  symmetryRules(c, out);
  initLossRule(c, out);
  out.push(...tmp);
  nonFiniteRule(c, out);
  unitRules(c, out);
  vanishingRule(c, out);
  if (!diverged) oscillationRule(c, out);
  slowRule(c, out);
  biasVarianceRules(c, out);
  return out;
}
