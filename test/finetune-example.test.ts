/** Runs examples/finetune.ts (README's fine-tuning section) and checks what it prints. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '..');

describe('examples/finetune.ts', () => {
  it('keeps the frozen backbone bit-identical through fit() and continues a PyTorch AdamW + OneCycleLR state', () => {
    const out = execFileSync(join(root, 'node_modules/.bin/tsx'), [join(root, 'examples/finetune.ts')], {
      cwd: mkdtempSync(join(tmpdir(), 'tread-finetune-example-')),
      encoding: 'utf8',
      env: { ...process.env, TREAD_THREADS: '1' },
    });
    const lines = out.trim().split('\n');
    expect(lines[0]).toBe('0.1.running_mean, 0.1.running_var, 0.1.num_batches_tracked');
    expect(lines[1]).toBe('backbone outputs unchanged: true');
    // PyTorch's group 0 after 5 steps (test/fixtures/pytorch-state/adamw_onecycle.json), not the constructor's.
    const fx = JSON.parse(readFileSync(join(root, 'test/fixtures/pytorch-state/adamw_onecycle.json'), 'utf8'));
    const g = fx.param_groups[0];
    expect(lines[2]).toBe(`step 5: lr ${g.lr.toFixed(5)}, weightDecay ${g.weight_decay}, beta1 ${g.betas[0].toFixed(4)}`);
  });
});
