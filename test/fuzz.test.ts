/**
 * The fuzz harness in CI (issue 11 item 6): a few thousand seeded cases per reader
 * (safetensors/checkpoints, IDX, CSV), each of which must load a valid result or be refused
 * with an Error of tread's (tools/fuzz/harness.ts), and every saved crash input replayed.
 * The long run is `npm run fuzz -- --cases 10000`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../ts/runtime/wasm.js';
import { checkOne, fuzz } from '../tools/fuzz/harness.js';
import { FuzzRandom } from '../tools/fuzz/random.js';
import { TARGETS } from '../tools/fuzz/targets.js';

const SEED = 20261206;
const CASES: Record<string, number> = { safetensors: 2000, idx: 2000, csv: 4000 };
const FIXTURES = join(__dirname, 'fixtures', 'fuzz');

beforeAll(async () => {
  await init({ threads: 1 });
});

describe('fuzzing the file readers', () => {
  for (const target of TARGETS) {
    it(`${target.name}: ${CASES[target.name]} seeded cases, each loaded or refused by tread, none crashing`, async () => {
      const r = await fuzz(target, { cases: CASES[target.name], seed: SEED });
      console.log(`fuzz ${target.name}: ${r.cases} cases (${r.loaded} loaded, ${r.refused} refused, ${r.crashes.length} crashes) in ${(r.ms / 1000).toFixed(1)} s, slowest ${r.slowestMs.toFixed(0)} ms, peak RSS ${r.peakRssMB.toFixed(0)} MB`);
      expect(r.crashes.map((c) => `${c.target}-${c.seed}-${c.index}: ${c.error}`)).toEqual([]);
      expect(r.cases).toBe(CASES[target.name]);
      // Both outcomes happen: the cases reach past the first check of the reader.
      expect(r.loaded).toBeGreaterThan(CASES[target.name] / 20);
      expect(r.refused).toBeGreaterThan(CASES[target.name] / 20);
    });
  }

  it('is reproducible: case i of seed s is the same input every time', () => {
    for (const target of TARGETS) {
      for (const i of [0, 17, 999]) {
        expect(Buffer.from(target.generate(FuzzRandom.forCase(SEED, i))).equals(Buffer.from(target.generate(FuzzRandom.forCase(SEED, i)))), `${target.name} ${i}`).toBe(true);
      }
    }
  });

  it('replays every saved crash input (test/fixtures/fuzz), each now loaded or refused cleanly', async () => {
    const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.bin'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const target = TARGETS.find((t) => f.startsWith(`${t.name}-`));
      expect(target, f).toBeDefined();
      await target!.prepare();
      const r = await checkOne(target!, new Uint8Array(readFileSync(join(FIXTURES, f))), 5000);
      expect(r.problem, f).toBeNull();
    }
  });

  it('the contract catches what it should: a reader that throws a TypeError, or changes the state on refusal, crashes', async () => {
    const { isTreadError, ContractViolation } = await import('../tools/fuzz/harness.js');
    expect(isTreadError(new TypeError('x'))).toBe(false);
    expect(isTreadError(new RangeError('Maximum call stack size exceeded'))).toBe(false);
    expect(isTreadError(new ContractViolation('changed'))).toBe(false);
    expect(isTreadError(new Error(''))).toBe(false);
    expect(isTreadError(new Error('readCsv: cannot read x'))).toBe(true);
  });
});
