/** `npx tread ...`: placeholder entry until the training CLI lands (ts/cli). */
import { init, runtimeInfo } from '../index.js';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === 'info' || args.length === 0) {
    await init();
    console.log(runtimeInfo());
    return;
  }
  console.error(`tread: unknown command '${args[0]}'. Try: tread info`);
  process.exit(2);
}

await main();
