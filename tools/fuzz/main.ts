/**
 * The long fuzz run (CI runs a shorter one in test/fuzz.test.ts):
 *
 *   npm run fuzz -- --cases 10000                 # every target, seed 1
 *   npm run fuzz -- --target csv --cases 50000 --seed 7
 *   npm run fuzz -- --replay test/fixtures/fuzz/csv-7-123.bin
 *
 * Prints, per target, the cases run, how many loaded or were refused, the crashes (inputs
 * that broke the contract of tools/fuzz/harness.ts), the time and the peak RSS. Each crash is
 * saved as test/fixtures/fuzz/<target>-<seed>-<index>.bin (or under --save DIR), which
 * test/fuzz.test.ts replays. Exits 1 when anything crashed.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { init } from '../../ts/runtime/wasm.js';
import { checkOne, fuzz, type FuzzTarget } from './harness.js';
import { TARGETS } from './targets.js';

function parseArgs(argv: string[]): { cases: number; seed: number; targets: readonly FuzzTarget[]; save: string; replay: string[] } {
  const out = { cases: 10_000, seed: 1, targets: TARGETS, save: join('test', 'fixtures', 'fuzz'), replay: [] as string[] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`fuzz: ${a} needs a value`);
      return v;
    };
    if (a === '--cases') out.cases = Number(value());
    else if (a === '--seed') out.seed = Number(value());
    else if (a === '--save') out.save = value();
    else if (a === '--replay') out.replay.push(value());
    else if (a === '--target') {
      const name = value();
      const t = TARGETS.find((x) => x.name === name);
      if (!t) throw new Error(`fuzz: unknown target '${name}' (targets: ${TARGETS.map((x) => x.name).join(', ')})`);
      out.targets = [t];
    } else throw new Error(`fuzz: unknown argument '${a}' (use --cases N, --seed S, --target NAME, --save DIR, --replay FILE)`);
  }
  if (!(Number.isInteger(out.cases) && out.cases > 0)) throw new Error('fuzz: --cases must be a positive integer');
  if (!Number.isInteger(out.seed)) throw new Error('fuzz: --seed must be an integer');
  return out;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  await init({ threads: 1 });
  if (args.replay.length > 0) {
    let bad = 0;
    for (const file of args.replay) {
      const target = TARGETS.find((t) => basename(file).startsWith(`${t.name}-`));
      if (!target) throw new Error(`fuzz: ${file}: the name must start with a target (${TARGETS.map((t) => t.name).join(', ')})`);
      await target.prepare();
      const r = await checkOne(target, new Uint8Array(readFileSync(file)), 5000);
      console.log(`${file}: ${r.problem ?? (r.loaded ? 'loaded' : 'refused')} (${r.ms.toFixed(0)} ms)`);
      if (r.problem) bad++;
    }
    return bad > 0 ? 1 : 0;
  }
  let crashes = 0;
  console.log('target       cases   loaded  refused  crashes  seconds  slowest ms  peak RSS MB');
  for (const target of args.targets) {
    const r = await fuzz(target, { cases: args.cases, seed: args.seed });
    console.log(`${r.target.padEnd(11)} ${String(r.cases).padStart(6)} ${String(r.loaded).padStart(8)} ${String(r.refused).padStart(8)} ${String(r.crashes.length).padStart(8)} ${(r.ms / 1000).toFixed(1).padStart(8)} ${r.slowestMs.toFixed(0).padStart(11)} ${r.peakRssMB.toFixed(0).padStart(12)}`);
    for (const c of r.crashes) {
      mkdirSync(args.save, { recursive: true });
      const file = join(args.save, `${c.target}-${c.seed}-${c.index}.bin`);
      writeFileSync(file, c.input);
      console.log(`  crash ${file}: ${c.error.slice(0, 200)}`);
    }
    crashes += r.crashes.length;
  }
  return crashes > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error((e as Error).message);
    process.exit(2);
  },
);
