/**
 * The diagnosis at the top of the report: the primary cause with its evidence and advice,
 * then the other findings (warnings first, info folded). Every string goes through the
 * report's escape function, passed in so this file does not import the report.
 */
import { fmt, formatFinding, type Finding } from './diagnosis/finding.js';

export function renderDiagnosis(findings: readonly Finding[], primary: Finding | null, esc: (s: string) => string): string {
  const head = primary
    ? `<div class="cause"><p><strong>Primary cause: ${esc(primary.kind)}</strong>${primary.where ? ` at ${esc(primary.where)}` : ''}${primary.epoch !== null ? ` (epoch ${primary.epoch + 1})` : ''}</p>` +
      `<p>Evidence: ${esc(primary.evidence)}${primary.threshold !== null ? ` (measured ${esc(fmt(primary.value))}, threshold ${esc(fmt(primary.threshold))})` : ''}.</p>` +
      `<p>Try: ${esc(primary.advice)}.</p></div>`
    : `<div class="cause ok"><p><strong>No problem found</strong>: no finding above 'info'.</p></div>`;
  const rest = findings.filter((f) => f !== primary && !(primary && f.kind === primary.kind && f.where === primary.where && f.evidence === primary.evidence));
  const warn = rest.filter((f) => f.severity !== 'info');
  const info = rest.filter((f) => f.severity === 'info');
  const li = (fs: Finding[]) => fs.map((f) => `<li>${esc(formatFinding(f))}</li>`).join('');
  const others = warn.length ? `<ul class="warn">${li(warn)}</ul>` : '';
  const folded = info.length ? `<details><summary>${info.length} more finding(s) at 'info' (symptoms explained by the cause above, or harmless)</summary><ul>${li(info)}</ul></details>` : '';
  return `<h2>Diagnosis</h2>${head}${others}${folded}`;
}
