/**
 * Node 24 beside the system Node 20 (scripts/setup.sh installs it in build/node24): the
 * benchmarks run under either, and jax-js (which needs Node >= 21 for `navigator`) always runs
 * under it.
 *
 *   npm run bench:train -- --node 24     re-runs the benchmark under build/node24's node
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const NODE24 = resolve(root, 'build/node24/node_modules/.bin/node');

/** Node with tsx's loader: runs a .ts file under `node` (Node 20.6+ / 24). */
export function tsxArgs(script: string, args: string[] = []): string[] {
  return ['--import', 'tsx', script, ...args];
}

/**
 * Handles `--node <20|24>` in process.argv: when it names another major version than this
 * process's, re-runs the same script under that Node with the other arguments and exits with
 * its status. Returns the arguments without `--node`.
 */
export function reexecForNode(): string[] {
  const args = process.argv.slice(2);
  const i = args.indexOf('--node');
  if (i < 0) return args;
  const want = args[i + 1];
  const rest = [...args.slice(0, i), ...args.slice(i + 2)];
  if (want !== '20' && want !== '24') throw new Error(`--node must be 20 or 24, got ${want}`);
  if (process.versions.node.split('.')[0] === want) return rest;
  const node = want === '24' ? NODE24 : 'node';
  if (want === '24' && !existsSync(NODE24)) throw new Error(`--node 24: no ${NODE24} (scripts/setup.sh installs it)`);
  const r = spawnSync(node, tsxArgs(process.argv[1]!, rest), { stdio: 'inherit', cwd: process.cwd() });
  process.exit(r.status ?? 1);
}
