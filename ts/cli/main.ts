/**
 * `npx tread <command>`:
 *   train       train an image classifier (the main job; see `tread train --help`)
 *   search      tune a tread train run's lr and weight decay (ts/cli/search.ts)
 *   export      hand a run over to PyTorch (ts/cli/export.ts)
 *   landscape   the loss landscape of a checkpoint (ts/cli/landscape.ts)
 *   optimizers  tread's optimizers on 2-D test functions (ts/cli/optimizers.ts)
 *   info        the runtime: wasm variant, threads
 */
import { init, runtimeInfo } from '../runtime/wasm.js';
import { trainCommand } from './train.js';
import { searchCommand } from './search.js';
import { optimizersCommand } from './optimizers.js';
import { landscapeCommand } from './landscape.js';
import { exportCommand } from './export.js';
import { treadVersion } from './version.js';

const USAGE = `Usage: tread <command> [options]

Commands:
  train       train a classifier on MNIST digits or Fashion-MNIST
  search      tune its learning rate and weight decay (random, grid or successive halving)
  export      hand a run over to PyTorch (tread export <checkpoint> --to pytorch)
  landscape   the loss landscape of a trained checkpoint (line from init, 2-D plane)
  optimizers  every optimizer on 2-D test functions: a page of their paths (lr tuned by grid search)
  info        show the WebAssembly runtime (variant, threads)

Options:
  --version  print tread's version

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
  if (cmd === '--version' || cmd === '-v' || cmd === 'version') {
    process.stdout.write(`${treadVersion()}\n`);
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
    // A user's mistake (a missing file, a bad option value) is one line; the stack trace is
    // for tread's own bugs and shows with TREAD_DEBUG=1.
    const message = e instanceof Error ? e.message : String(e);
    const debug = process.env.TREAD_DEBUG === '1' && e instanceof Error && e.stack;
    process.stderr.write(debug ? `tread: ${e.stack}\n` : `tread: ${message}\n`);
    process.exit(1);
  },
);
