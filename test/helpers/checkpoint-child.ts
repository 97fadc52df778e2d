/**
 * Child process for test/checkpoint.test.ts: writes a large checkpoint to argv[2] with the
 * atomic writer and lingers before the rename, so the parent can kill it mid-save.
 */
import { atomicWriteFile } from '../../ts/train/atomic.js';
import { serializeSafetensors } from '../../ts/train/safetensors.js';

const file = process.argv[2];
const mb = Number(process.argv[3] ?? 256);
const big = new Float32Array((mb << 20) / 4).fill(7);
const bytes = serializeSafetensors({ w: { shape: [big.length], data: big } }, { 'tread.kind': 'checkpoint' });
process.stdout.write('START\n');
await atomicWriteFile(file, bytes, {
  beforeRename: async () => {
    process.stdout.write('SYNCED\n');
    await new Promise((r) => setTimeout(r, 60_000));
  },
});
process.stdout.write('DONE\n');
