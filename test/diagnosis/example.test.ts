/** examples/diagnose_broken_run.ts runs and tells the story it is meant to tell. */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../..');

describe('examples/diagnose_broken_run.ts', () => {
  it('names vanishing gradients as the primary cause, fails the overfit-one-batch check, and is quiet after the fix', () => {
    const out = execFileSync(resolve(root, 'node_modules/.bin/tsx'), [resolve(root, 'examples/diagnose_broken_run.ts')], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    expect(out).toMatch(/^primary cause: \[vanishing\] at 'Linear 0\.weight'/m);
    expect(out).toMatch(/"kind": "vanishing"/);
    expect(out).toMatch(/^overfit one batch: could not memorize 32 samples/m);
    expect(out).toMatch(/^after the fix: no problem found: no finding above info; val accuracy (9\d|100)\.\d%/m);
  });
});
