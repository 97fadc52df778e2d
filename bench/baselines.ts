/**
 * The start every tfjs-comparing benchmark shares: tread on 2 threads (the dev machines' core
 * count) and tfjs on its wasm backend, with the 1-minute load average taken first, since
 * the machines are shared and a busy neighbour shows there.
 */
import { loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { init, runtimeInfo, type RuntimeInfo } from '../ts/runtime/wasm.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface Baselines {
  info: RuntimeInfo;
  /** Load average (1 min) before anything ran. */
  loadBefore: number;
  /** Switches tfjs's backend ('wasm', 'cpu') if it is not the current one. */
  useBackend: (name: string) => Promise<void>;
}

export async function startTreadAndTfjs(): Promise<Baselines> {
  const loadBefore = loadavg()[0];
  await init({ threads: 2 });
  const info = runtimeInfo();
  if (info.poolThreads < 2) console.warn(`tread: only ${info.poolThreads} thread(s) available: ${info.note}`);
  setWasmPaths(resolve(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
  const useBackend = async (name: string) => {
    if (tf.getBackend() !== name) {
      await tf.setBackend(name);
      await tf.ready();
    }
  };
  await useBackend('wasm');
  return { info, loadBefore, useBackend };
}
