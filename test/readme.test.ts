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

  it('shows the browser page and the bundler recipes of examples/browser/ verbatim (test/package.test.ts runs them)', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/```(?:html|js|sh)\n([\s\S]*?)```/g)].map((m) => m[1].trim());
    for (const file of ['index.html', 'main.js', 'worker.js', 'vite.config.js', 'build-esbuild.sh', 'webpack.config.js', 'rollup.config.mjs']) {
      expect(blocks, file).toContain(readFileSync(join(root, 'examples/browser', file), 'utf8').trim());
    }
  });

  it('names the places other parts of the README fill in', () => {
    const headings = readFileSync(join(root, 'README.md'), 'utf8').match(/^#{1,3} .*$/gm) ?? [];
    for (const h of ['## Install', '## Quick start in Node', '## Quick start in a browser', '## Bundlers', '### Worker training API',
      '### Files you can trust', '### Diagnosis', '# For contributors', '## Measured here']) {
      expect(headings).toContain(h);
    }
  });

  it('quotes only lines that are in the examples it names (blocks starting with // examples/X.ts (excerpt))', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/```ts\n\/\/ (examples\/[\w./-]+\.ts) \(excerpt\)\n([\s\S]*?)```/g)];
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    for (const [, file, body] of blocks) {
      const source = readFileSync(join(root, file!), 'utf8');
      for (const line of body!.split('\n').map((l) => l.trim()).filter(Boolean)) expect(source, `${file}: ${line}`).toContain(line);
    }
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
