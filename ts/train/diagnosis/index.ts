/**
 * Diagnosis of a training run: structured findings and one primary cause.
 *
 *   const r = await fit(model, { ... });            // the collector runs by default
 *   r.primaryCause?.kind;                           // 'vanishing'
 *   r.findings;                                     // every finding, primary first
 *
 * collector.ts gathers the numbers during fit(), rules.ts turns them into findings, rank.ts
 * picks the primary cause by a causal order, finding.ts formats them.
 */
import { formatFinding, summarizeFindings, type Finding } from './finding.js';
import { rankFindings } from './rank.js';
import { runRules, type RuleOptions } from './rules.js';
import type { RunStats } from './run_stats.js';

export interface RunDiagnosis {
  /** Primary first, then by severity and causal order. Plain JSON. */
  findings: Finding[];
  primary: Finding | null;
  /** One line per kind and layer, warnings and above (errors keep their 'error' prefix). */
  lines: string[];
}

export function diagnoseRun(stats: RunStats, options: RuleOptions = {}): RunDiagnosis {
  const { findings, primary } = rankFindings(runRules(stats, options));
  // As warnings: 'warning: [vanishing] ...', not 'warning: warning [vanishing] ...'.
  return { findings, primary, lines: summarizeFindings(findings, 'warning').map((l) => l.replace(/^warning /, '')) };
}

/** "primary cause: vanishing at 'Linear 0.weight': <evidence>. <advice>", or a healthy-run line. */
export function primaryCauseLine(primary: Finding | null): string {
  return primary ? `primary cause: ${formatFinding(primary).replace(/^(warning|error) /, '')}` : 'no problem found: no finding above info';
}

export { DiagnosisCollector, DIAGNOSIS_EXTRA } from './collector.js';
export type { CollectorOptions } from './collector.js';
export { cleanTrainingError } from './clean_error.js';
export { FINDING_KINDS, SEVERITIES, formatFinding, summarizeFindings } from './finding.js';
export type { Finding, FindingKind, Severity } from './finding.js';
export { rankFindings, CAUSAL_ORDER, CAN_CAUSE } from './rank.js';
export { runRules } from './rules.js';
export type { RuleOptions } from './rules.js';
export type { RunStats } from './run_stats.js';
export { THRESHOLDS } from './thresholds.js';
export { ProbeSampler, PROBE_SIZE } from './probe.js';
export { layerLabels, moduleKinds, paramLabel } from './names.js';
