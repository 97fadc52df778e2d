/**
 * Runs suite cases through fit() (single thread) and scores the diagnosis: the primary cause
 * against the label, warnings on healthy runs, and extra warning-level kinds on failing runs.
 */
import { endStep } from '../../ts/tensor/lifetime.js';
import * as nn from '../../ts/nn/index.js';
import { fit, type FitResult } from '../../ts/train/fit.js';
import { CLASSES, DESIRED_ERROR, verify, type Case, type Cls } from './cases.js';

export interface Outcome {
  c: Case;
  result: FitResult;
  /** Why the label does not hold, or null. */
  labelProblem: string | null;
  primary: string;
  warnings: string[];
  seconds: number;
}

export async function runCase(c: Case): Promise<Outcome> {
  const t0 = performance.now();
  const s = c.build();
  const losses: number[] = [];
  const result = await fit(s.model, {
    train: s.train,
    val: s.val,
    optimizer: s.optimizer,
    lossFn: new nn.CrossEntropyLoss(),
    epochs: s.epochs,
    metrics: ['accuracy'],
    diagnosis: { desiredError: DESIRED_ERROR },
    callbacks: [{ onAfterBackward: (ctx) => void losses.push(ctx.loss) }],
    onWarning: () => {},
  });
  // The non-finite batch never reaches onAfterBackward: record it as the test saw it.
  if (result.nonFinite) losses.push(result.nonFinite.value);
  const labelProblem = verify(c, s, result, losses);
  endStep();
  const warnings = result.findings.filter((f) => f.severity !== 'info').map((f) => f.kind);
  return { c, result, labelProblem, primary: result.primaryCause?.kind ?? 'healthy', warnings, seconds: (performance.now() - t0) / 1000 };
}

export interface Score {
  failing: number;
  primaryRight: number;
  healthy: number;
  healthyClean: number;
  /** Failing runs with more than one kind at warning or above. */
  multi: Outcome[];
  perClass: { cls: Cls; precision: number; recall: number; tp: number; predicted: number; actual: number }[];
  table: string;
}

export function score(outs: Outcome[]): Score {
  const failing = outs.filter((o) => o.c.cls !== 'healthy');
  const healthy = outs.filter((o) => o.c.cls === 'healthy');
  const perClass = CLASSES.map((cls) => {
    const actual = outs.filter((o) => o.c.cls === cls).length;
    const predicted = outs.filter((o) => o.primary === cls).length;
    const tp = outs.filter((o) => o.c.cls === cls && o.primary === cls).length;
    return { cls, tp, predicted, actual, precision: predicted ? tp / predicted : NaN, recall: actual ? tp / actual : NaN };
  });
  const table = [
    'class                 precision  recall  (tp/predicted/actual)',
    ...perClass.map((p) => `${p.cls.padEnd(21)} ${(p.precision * 100).toFixed(0).padStart(8)}%  ${(p.recall * 100).toFixed(0).padStart(5)}%  (${p.tp}/${p.predicted}/${p.actual})`),
  ].join('\n');
  return {
    failing: failing.length,
    primaryRight: failing.filter((o) => o.primary === o.c.cls).length,
    healthy: healthy.length,
    healthyClean: healthy.filter((o) => o.warnings.length === 0).length,
    multi: failing.filter((o) => new Set(o.warnings).size > 1),
    perClass,
    table,
  };
}
