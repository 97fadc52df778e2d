/**
 * `tread train` end to end on a broken run (plain SGD at lr 1e-6 on the MNIST digits MLP):
 * the CLI prints the primary cause at the end, history.json holds the findings, the primary
 * cause and per-batch curves, and report.html shows the cause first, above the charts, with
 * layers named by type and path and a per-batch loss chart for a 1-epoch run.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { trainCommand } from '../../ts/cli/train.js';

const dir = mkdtempSync(join(tmpdir(), 'tread-diagnosis-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tread train: diagnosis', () => {
  it('a 1-epoch run with lr far too low: primary cause printed, in history.json and first in the report', async () => {
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: any) => (out.push(String(s)), true));
    let code: number;
    try {
      code = await trainCommand(['--data', 'mnist', '--model', 'mlp', '--limit', '1024', '--epochs', '1', '--batch-size', '32', '--optimizer', 'sgd', '--lr', '1e-6', '--momentum', '0', '--schedule', 'none', '--no-progress', '--threads', '1', '--out', dir]);
    } finally {
      spy.mockRestore();
    }
    const text = out.join('');
    expect(code!).toBe(0);
    const last = text.trim().split('\n').find((l) => /primary cause:/.test(l));
    expect(last).toMatch(/primary cause: \[slow-convergence\].*of their size.*raise the learning rate/);
    const h = JSON.parse(readFileSync(join(dir, 'history.json'), 'utf8'));
    expect(h.primaryCause.kind).toBe('slow-convergence');
    expect(h.findings[0]).toEqual(h.primaryCause);
    expect(h.findings.filter((f: any) => f.severity !== 'info').map((f: any) => f.kind)).toEqual(['slow-convergence']);
    expect(h.batches.loss.length).toBe(32);
    expect(h.batches.lr.every((v: number) => v === 1e-6)).toBe(true);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    const cause = html.indexOf('Primary cause: slow-convergence');
    expect(cause).toBeGreaterThan(0);
    expect(cause).toBeLessThan(html.indexOf('<svg'));
    expect(html).toContain('Loss per batch');
    expect(html).toMatch(/Linear \d\.weight/);
    expect(html).not.toMatch(/<script/);
  });
});
