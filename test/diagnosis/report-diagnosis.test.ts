/**
 * The report a user reads: the primary cause and its evidence above the charts, everything
 * escaped, long lists folded, per-batch curves for a 1-epoch run, round tick labels and
 * legend labels that fit their column, series named by layer type and path.
 */
import { describe, expect, it } from 'vitest';
import { History } from '../../ts/train/callbacks.js';
import type { Finding } from '../../ts/train/diagnosis/finding.js';
import { lineChart, renderReport } from '../../ts/train/report.js';

const finding = (kind: Finding['kind'], severity: Finding['severity'], evidence: string): Finding => ({ kind, severity, where: 'Linear 0.weight', epoch: 0, step: null, value: 1e-9, threshold: 0.01, evidence, advice: 'use <He> init' });

describe('report: diagnosis first', () => {
  it('puts the escaped primary cause above the charts, folds long lists, draws per-batch curves and names layers', () => {
    const h = new History();
    h.push({ epoch: 0, loss: 1.2, lr: 0.1, 'grad_norm/0.weight': 1e-9, 'grad_norm/2.weight': 0.3 });
    const primary = finding('vanishing', 'warning', 'ratio <script>alert(1)</script>');
    const html = renderReport({
      history: h,
      findings: [primary, finding('underfitting', 'info', 'gap'), finding('slow-convergence', 'info', 'tiny')],
      primaryCause: JSON.parse(JSON.stringify(primary)), // as read back from history.json
      batches: { loss: [1.4, 1.3, 1.25, 1.2], lr: [0.1, 0.1, 0.1, 0.1], epoch: [0, 0, 0, 0] },
      warnings: Array.from({ length: 9 }, (_, i) => `w${i}`),
      names: { '0.weight': 'Linear 0.weight', '2.weight': 'Linear 2.weight' },
    });
    const cause = html.indexOf('Primary cause: vanishing');
    expect(cause).toBeGreaterThan(0);
    expect(cause).toBeLessThan(html.indexOf('<svg'));
    expect(html).not.toContain('<script>');
    expect(html).toContain('ratio &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('use &lt;He&gt; init');
    expect(html).toMatch(/<details><summary>2 more finding\(s\) at 'info'/);
    expect(html).toMatch(/<details><summary>4 more<\/summary>/); // 9 warnings: 5 shown, 4 folded
    expect(html).toContain('Loss per batch');
    expect(html).toContain('>Linear 2.weight</text>');
    expect(html.match(/Primary cause/g)!.length).toBe(1);
  });

  it('tick labels are round numbers and legend labels fit their column', () => {
    const long = Array.from({ length: 6 }, (_, i) => ({ name: `update_ratio/features.block${i}.conv_depthwise_separable.weight`, values: [0.605, 0.52, 0.436] }));
    const svg = lineChart('Update ratio', long, { width: 560 });
    const yLabels = [...svg.matchAll(/text-anchor="end"[^>]*>([^<]*)</g)].map((m) => m[1]);
    expect(yLabels).toEqual(['0.4', '0.45', '0.5', '0.55', '0.6', '0.65']);
    const plotW = 560 - 62 - 12;
    const legend = [...svg.matchAll(/<text x="[\d.]+" y="[\d.]+" font-size="11">([^<]*)</g)].map((m) => m[1]);
    expect(legend).toHaveLength(6);
    for (const l of legend) expect(22 + l.length * 6.5).toBeLessThanOrEqual(plotW / 2);
  });
});
