/** The fuzz targets, by name (the prefix of their crash fixtures). */
import type { FuzzTarget } from './harness.js';
import { csvTarget } from './csv.js';
import { idxTarget } from './idx.js';
import { safetensorsTarget } from './safetensors.js';

export const TARGETS: readonly FuzzTarget[] = [safetensorsTarget, idxTarget, csvTarget];
