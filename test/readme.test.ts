/**
 * README.md is the front door: its API tour is examples/quickstart.ts, verbatim, and this test
 * runs it (in a temp folder) and checks what it prints and writes.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '..');

describe('README tour', () => {
  it('shows examples/quickstart.ts verbatim', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const example = readFileSync(join(root, 'examples/quickstart.ts'), 'utf8').trim();
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1].trim());
    expect(blocks).toContain(example);
  });

  it('runs: trains the spirals past 90% validation accuracy and writes a checkpoint', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'tread-readme-'));
    const out = execFileSync(join(root, 'node_modules/.bin/tsx'), [join(root, 'examples/quickstart.ts')], {
      cwd,
      encoding: 'utf8',
      env: { ...process.env, TREAD_THREADS: '2' },
    });
    const acc = Number(/val accuracy ([\d.]+)%/.exec(out)?.[1]);
    expect(acc).toBeGreaterThan(90);
    expect(existsSync(join(cwd, 'spirals.safetensors'))).toBe(true);
  });
});
