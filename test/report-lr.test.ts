/**
 * The per-epoch table shows the learning rate an epoch ran with: first -> last batch's rate under
 * a per-batch schedule (from fit's per-batch log), the logged rate otherwise.
 */
import { describe, expect, it } from 'vitest';
import { History } from '../ts/train/callbacks.js';
import { renderReport } from '../ts/train/report.js';

describe('report: the epoch\'s learning rate', () => {
  it('shows first -> last of each epoch when a schedule moved it within the epoch, the logged value when not', () => {
    const h = new History();
    h.push({ epoch: 0, loss: 1, lr: 0.1 });
    h.push({ epoch: 1, loss: 0.5, lr: 0.02 });
    h.push({ epoch: 2, loss: 0.4, lr: 0.01 });
    const batches = { loss: [1, 1, 1, 0.5, 0.5, 0.4, 0.4], lr: [0.1, 0.05, 0.02, 0.02, 0.01, 0.01, 0.01], epoch: [0, 0, 0, 1, 1, 2, 2] };
    const html = renderReport({ history: h, batches });
    const rows = [...html.matchAll(/<tr[^>]*><td>(\d+)[^<]*<\/td>(.*?)<\/tr>/g)].map((m) => m[2]);
    expect(rows[0]).toContain('0.1000 → 0.0200');
    expect(rows[1]).toContain('0.0200 → 0.0100');
    expect(rows[2]).toContain('<td>0.0100</td>');
    expect(rows[2]).not.toContain('→');
  });
});
