import { init, runtimeInfo, setThreads } from '../ts/runtime/wasm.js';
import { treadMlpStep } from './models.js';
const threads = Number(process.env.T ?? 2);
const secs = Number(process.env.SECS ?? 6);
await init({ threads: 2 });
setThreads(threads);
console.log(runtimeInfo().variant, runtimeInfo().poolThreads);
const s = treadMlpStep(128);
for (let i = 0; i < 50; i++) s.step();
const t0 = performance.now();
let n = 0;
const rounds: number[] = [];
while (performance.now() - t0 < secs * 1000) {
  const a = performance.now();
  for (let i = 0; i < 50; i++) s.step();
  rounds.push((performance.now() - a) / 50);
  n += 50;
}
rounds.sort((a, b) => a - b);
console.log(`T=${threads} median ${rounds[rounds.length >> 1].toFixed(3)} best ${rounds[0].toFixed(3)} ms/step over ${rounds.length} rounds`);
