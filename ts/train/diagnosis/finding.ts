/**
 * A finding: one thing the diagnosis saw in a run, as plain JSON-safe data (it crosses a
 * Worker's postMessage and lands in history.json unchanged). Warning text is derived from
 * findings, never the other way round.
 */

/**
 * The kinds, named after the failure classes of "babysitting the learning process", written
 * in causal order (see rank.ts): an earlier kind can cause a later one, not the reverse.
 */
export const FINDING_KINDS = [
  'data',
  'unnormalized-inputs',
  'symmetry',
  'loss-at-init',
  'exploding',
  'non-finite',
  'oscillating',
  'dying-relu',
  'saturation',
  'vanishing',
  'slow-convergence',
  'underfitting',
  'overfitting',
] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

export const SEVERITIES = ['info', 'warning', 'error'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface Finding {
  kind: FindingKind;
  severity: Severity;
  /** The layer or parameter path ('1.weight', 'ReLU 2'), or null for the whole run. */
  where: string | null;
  /** 0-based epoch the evidence is from (null: the whole run). */
  epoch: number | null;
  /** Optimizer step (global) the evidence is from, when one step is meant. */
  step: number | null;
  /** The measured value the verdict rests on ("Infinity"/"NaN" as strings: JSON has none). */
  value: number | string | null;
  /** The threshold it was compared with. */
  threshold: number | null;
  /** What was measured, in words, with the numbers. */
  evidence: string;
  /** What to try. */
  advice: string;
  /** Set when a ranked-higher finding probably causes this one (its severity is then 'info'). */
  explainedBy?: FindingKind;
}

/** A number for a Finding's value: non-finite ones as strings, so JSON keeps them. */
export function jsonNumber(v: number): number | string {
  return Number.isFinite(v) ? v : String(v);
}

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

export function atLeastWarning(f: Finding): boolean {
  return severityRank(f.severity) >= 1;
}

/** A number for humans: 3 significant digits, exponent form when tiny or huge. */
export function fmt(v: number | string | null): string {
  if (v === null) return 'n/a';
  if (typeof v === 'string') return v;
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(2);
  return String(Number(v.toPrecision(3)));
}

export function pct(v: number): string {
  return `${(v * 100).toFixed(1)}%`;
}

/** One line for a finding: "warning [vanishing] at '0.weight' (epoch 3): evidence -> advice". */
export function formatFinding(f: Finding): string {
  const at = f.where ? ` at '${f.where}'` : '';
  const when = f.epoch !== null ? ` (epoch ${f.epoch + 1}${f.step !== null ? `, step ${f.step}` : ''})` : '';
  const why = f.explainedBy ? ` (probably a consequence of ${f.explainedBy})` : '';
  return `${f.severity} [${f.kind}]${at}${when}: ${f.evidence}${why}${f.advice ? `. ${f.advice}` : ''}`;
}

/**
 * One line per kind and layer, with a count of how many epochs/places it was seen:
 * the list a user reads instead of one warning per epoch and parameter.
 */
export function summarizeFindings(findings: readonly Finding[], minSeverity: Severity = 'info'): string[] {
  const groups = new Map<string, { first: Finding; count: number; epochs: number[] }>();
  for (const f of findings) {
    if (severityRank(f.severity) < severityRank(minSeverity)) continue;
    const key = `${f.kind}\u0000${f.where ?? ''}\u0000${f.severity}`;
    const g = groups.get(key);
    if (g) {
      g.count++;
      if (f.epoch !== null) g.epochs.push(f.epoch);
    } else groups.set(key, { first: f, count: 1, epochs: f.epoch !== null ? [f.epoch] : [] });
  }
  return [...groups.values()].map(({ first, count, epochs }) => {
    const line = formatFinding(first);
    if (count === 1) return line;
    const span = epochs.length ? ` in epochs ${Math.min(...epochs) + 1}-${Math.max(...epochs) + 1}` : '';
    return `${line} [seen ${count} times${span}]`;
  });
}
