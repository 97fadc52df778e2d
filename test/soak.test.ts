/**
 * Memory stays flat without dispose(): a shorter run (10,000 steps each) of the soak that
 * `npm run soak` runs for 100,000 steps (tools/soak): a loop making its inputs with tensor()
 * every step, the README's DataLoader loop, and fit(). Each runs in its own process; wasm
 * memory and liveStorage() must not grow at all after warm-up (the memory GC cannot see).
 * The JS heap and RSS are noisy over so few steps on a shared machine (JIT, concurrent
 * sweeping: ±700 KiB per 1,000 steps seen), so here they only catch gross leaks (2 and 4 KiB
 * a step); the 100,000-step soak holds them to 64 and 512 bytes a step.
 */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '..');

describe('memory soak (10,000 steps per loop)', () => {
  it('keeps wasm memory, liveStorage() and the JS heap flat in all three loops', () => {
    const r = spawnSync(join(root, 'node_modules/.bin/tsx'), ['tools/soak/run.ts', '--steps', '10000', '--warmup', '0.5', '--rss-limit-kib', '4096', '--heap-limit-kib', '2048'], {
      cwd: root,
      encoding: 'utf8',
    });
    const out = `${r.stdout}${r.stderr}`;
    for (const loop of ['tensor', 'loader', 'fit']) {
      const line = out.split('\n').find((l) => l.startsWith(loop)) ?? '';
      expect(line, out).toMatch(/10000 steps/);
      expect(line, line).toMatch(/slope per 1,000 steps: wasm 0\.0 KiB, liveStorage 0\.0 KiB,/);
    }
    expect(r.status, out).toBe(0);
  }, 180_000);
});
