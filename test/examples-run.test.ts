/**
 * The examples README quotes (examples/landscape.ts, study.ts, export_pytorch.ts) run as a user
 * runs them, and print what README says they print.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '..');
const run = (file: string, args: string[] = []) =>
  execFileSync(join(root, 'node_modules/.bin/tsx'), [join(root, 'examples', file), ...args], { cwd: mkdtempSync(join(tmpdir(), 'tread-ex-')), encoding: 'utf8', env: { ...process.env, TREAD_THREADS: '2' } });

describe('README examples', () => {
  it('examples/landscape.ts: the line falls from init to the trained weights; the path and the sharpness are there', () => {
    const out = run('landscape.ts');
    const [, a0, a1] = /line: loss ([\d.]+) at α=0 -> ([\d.]+) at α=1/.exec(out)!.map(Number);
    expect(a1!).toBeLessThan(a0!);
    expect(out).toMatch(/plane: 441 points/);
    expect(out).toMatch(/path: \d+ snapshots, PCA variance 0\.\d\d \+ 0\.\d\d/);
    expect(Number(/top Hessian eigenvalues ([\d.]+)/.exec(out)![1])).toBeGreaterThan(0);
  });

  it('examples/study.ts: the lr finder suggests a rate, and the study prunes trials', () => {
    const out = run('study.ts');
    expect(Number(/steepest descent at lr ([\d.e+-]+)/.exec(out)![1])).toBeGreaterThan(0);
    const m = /18 trials: (\d+) complete, (\d+) pruned, 0 failed; best: trial \d+/.exec(out);
    expect(m).not.toBeNull();
    expect(Number(m![2])).toBeGreaterThan(0);
  });

  it('examples/export_pytorch.ts: writes a script that PyTorch runs (when python3-torch is installed)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tread-ex-torch-'));
    run('export_pytorch.ts', [dir]);
    expect(existsSync(join(dir, 'train_torch.py'))).toBe(true);
    const probe = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      console.warn('examples/export_pytorch.ts: python3-torch missing, the script is not run (scripts/setup.sh installs it)');
      return;
    }
    const py = spawnSync('/usr/bin/python3', [join(dir, 'train_torch.py'), '--epochs', '2', '--log-every', '0'], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
    expect(py.status, py.stderr).toBe(0);
    expect(py.stdout).toMatch(/"epoch": 2, "train_loss": [\d.]+/);
  });
});
