/**
 * One primary cause. Findings are ranked by a causal order: what comes earlier in a run's
 * story can cause what comes later (bad data and unnormalized inputs cause divergence and
 * dead units; symmetry causes everything a too-small model shows; divergence causes the
 * non-finite value; a too-high learning rate (divergence, oscillation) kills and saturates
 * units; dead/saturated units and vanishing gradients look like "the learning
 * rate is too low"), and high bias/variance are only what is left when nothing upstream
 * explains the gap. A warning that a higher-ranked warning can cause is lowered to 'info'
 * and marked `explainedBy`, so a run with one problem shows one warning.
 */
import { atLeastWarning, FINDING_KINDS, severityRank, type Finding, type FindingKind } from './finding.js';

/** The causal order: FINDING_KINDS is written in it. */
export const CAUSAL_ORDER: readonly FindingKind[] = FINDING_KINDS;

const ALL_AFTER = (k: FindingKind): FindingKind[] => CAUSAL_ORDER.slice(CAUSAL_ORDER.indexOf(k) + 1);

/** What each kind can cause (always kinds later in the order). */
export const CAN_CAUSE: Record<FindingKind, readonly FindingKind[]> = {
  data: ALL_AFTER('data'),
  'unnormalized-inputs': ['loss-at-init', 'non-finite', 'exploding', 'dying-relu', 'saturation', 'vanishing', 'oscillating', 'slow-convergence', 'underfitting'],
  symmetry: ['dying-relu', 'saturation', 'vanishing', 'oscillating', 'slow-convergence', 'underfitting'],
  'loss-at-init': ['non-finite', 'exploding', 'dying-relu', 'saturation', 'oscillating', 'slow-convergence', 'underfitting'],
  'non-finite': ['dying-relu', 'saturation', 'vanishing', 'oscillating', 'slow-convergence', 'underfitting', 'overfitting'],
  exploding: ['non-finite', 'oscillating', 'dying-relu', 'saturation', 'vanishing', 'slow-convergence', 'underfitting'],
  'dying-relu': ['vanishing', 'slow-convergence', 'underfitting'],
  saturation: ['vanishing', 'slow-convergence', 'underfitting'],
  vanishing: ['slow-convergence', 'underfitting'],
  // A learning rate too high for the loss surface also kills ReLUs and saturates tanh/sigmoid units.
  oscillating: ['dying-relu', 'saturation', 'vanishing', 'slow-convergence', 'underfitting'],
  'slow-convergence': ['underfitting'],
  overfitting: [],
  underfitting: [],
};

export interface RankedFindings {
  /** Sorted: primary first, then by severity and causal order. */
  findings: Finding[];
  primary: Finding | null;
}

export function rankFindings(input: readonly Finding[]): RankedFindings {
  const order = (f: Finding) => CAUSAL_ORDER.indexOf(f.kind);
  const sorted = input.map((f) => ({ ...f })).sort((a, b) => order(a) - order(b) || severityRank(b.severity) - severityRank(a.severity));
  // Walk in causal order: a warning some earlier standing warning can cause is explained by it.
  const standing: Finding[] = [];
  for (const f of sorted) {
    if (!atLeastWarning(f)) continue;
    const cause = standing.find((c) => CAN_CAUSE[c.kind].includes(f.kind));
    if (cause) {
      // Kept in the list (a non-finite value is what divergence ends in), but not as a second cause.
      f.severity = 'info';
      f.explainedBy = cause.kind;
    } else standing.push(f);
  }
  const primary = standing[0] ?? null;
  const rest = sorted.filter((f) => f !== primary).sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || order(a) - order(b));
  return { findings: primary ? [primary, ...rest] : rest, primary };
}
