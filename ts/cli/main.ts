/**
 * `npx tread <command>`:
 *   train   train an image classifier (the main job; see `tread train --help`)
 *   export      hand a run over to PyTorch (tread export <checkpoint> --to pytorch)
  landscape   the loss landscape of a checkpoint (ts/cli/landscape.ts)
 *   optimizers  tread's optimizers on 2-D test functions (ts/cli/optimizers.ts)
 *   info    the runtime: wasm variant, threads
 */
import { init, runtimeInfo } from '../runtime/wasm.js';
import { trainCommand } from './train.js';
import { searchCommand } from './search.js';
import { optimizersCommand } from './optimizers.js';
import { landscapeCommand } from './landscape.js';
import { exportCommand } from './export.js';

const USAGE = `Usage: tread <command> [options]

Commands:
  train     train a classifier on MNIST digits or Fashion-MNIST
  search    tune its learning rate and weight decay (random, grid or successive halving)
  export      hand a run over to PyTorch (tread export <checkpoint> --to pytorch)
  landscape   the loss landscape of a trained checkpoint (line from init, 2-D plane)
  optimizers  every optimizer on 2-D test functions: a page of their paths (lr tuned by grid search)
  info      show the WebAssembly runtime (variant, threads)

Run 'tread train --help' for the training options.
`;

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const cmd = args[0] ?? 'help';
  const rest = args.slice(1);
  if (cmd === 'help' || cmd === '--help' || cmd === '-h') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (cmd === 'info') {
    await init();
    console.log(runtimeInfo());
    return 0;
  }
  if (cmd === 'train') {
    return trainCommand(rest);
  }
  if (cmd === 'search') return searchCommand(rest);
  if (cmd === 'optimizers') return optimizersCommand(rest);
  if (cmd === 'landscape') return landscapeCommand(rest);
  if (cmd === 'export') return exportCommand(rest);
  process.stderr.write(`tread: unknown command '${cmd}'\n\n${USAGE}`);
  return 2;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`tread: ${(e as Error)?.stack ?? e}\n`);
    process.exit(1);
  },
);
