/**
 * Fuzz target: safetensors files and tread checkpoints (parseSafetensors + applyCheckpoint
 * into a model, an Adam optimizer and a StepLR scheduler). Cases start from a real checkpoint
 * and a weights file in F32/F16/BF16/F64/I64 and then: damage bytes, lie in the header length,
 * give huge or malformed shapes and offsets, write NaN/Inf into the data, change dtypes (F8
 * included), name keys twice (`__metadata__` too), put invalid UTF-8 or deep nesting into the
 * header, add thousands of entries, and corrupt the training/optimizer JSON (lr Infinity,
 * step -1, epoch "2", history not a list ...). A refused load must leave model, optimizer
 * and scheduler byte for byte as they were; a loaded one must be a legal state.
 */
import { tensor } from '../../ts/tensor/create.js';
import { Tensor } from '../../ts/tensor/tensor.js';
import * as nn from '../../ts/nn/index.js';
import { manualSeed } from '../../ts/nn/random.js';
import { Adam } from '../../ts/optim/index.js';
import { StepLR } from '../../ts/optim/lr_scheduler/simple.js';
import '../../ts/ops/methods.js';
import { applyCheckpoint, encodeCheckpoint } from '../../ts/train/checkpoint.js';
import { parseSafetensors } from '../../ts/train/safetensors.js';
import { ContractViolation, type FuzzTarget } from './harness.js';
import { concat, mutateBytes } from './mutate.js';
import type { FuzzRandom } from './random.js';

const encoder = new TextEncoder();
/** A tensor limit low enough that entry-count bombs are cheap here (the default is 100,000). */
const LIMITS = { safetensorsTensors: 2000 };

let model: nn.Sequential;
let optimizer: Adam;
let scheduler: StepLR;
let checkpoint: Uint8Array;
let weights: Uint8Array;
/** The state between cases (one step past `checkpoint`). */
let live: Uint8Array;

function file(header: string | Uint8Array, data: Uint8Array, lie?: bigint): Uint8Array {
  const h = typeof header === 'string' ? encoder.encode(header) : header;
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lie ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function split(bytes: Uint8Array): { header: any; data: Uint8Array } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))), data: bytes.subarray(8 + n) };
}

/** A weights file of the model in other dtypes (as PyTorch writes them). */
function weightsIn(rng: FuzzRandom): Uint8Array {
  const header: Record<string, unknown> = {};
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const [name, t] of model.stateDict()) {
    const dtype = rng.pick(['F32', 'F16', 'BF16', 'F64']);
    const size = { F32: 4, F16: 2, BF16: 2, F64: 8 }[dtype]!;
    const b = new Uint8Array(t.size * size);
    const dv = new DataView(b.buffer);
    const v = t.toArray();
    for (let i = 0; i < t.size; i++) {
      if (dtype === 'F64') dv.setFloat64(i * 8, v[i], true);
      else if (dtype === 'F32') dv.setFloat32(i * 4, v[i], true);
      else dv.setUint16(i * 2, rng.int(65536), true);
    }
    header[name] = { dtype, shape: t.shape, data_offsets: [at, at + b.length] };
    parts.push(b);
    at += b.length;
  }
  return file(JSON.stringify(header), concat(...parts));
}

const BAD_NUMBERS = [-1, 1.5, 1e400, -1e400, 2 ** 53 + 2, 2 ** 32, 2 ** 31, '3', null, [], {}];

function mutateJsonState(rng: FuzzRandom, meta: Record<string, string>): void {
  const training = JSON.parse(meta['tread.training']);
  const opt = JSON.parse(meta['tread.optimizer']);
  const num = () => rng.pick<unknown>([...BAD_NUMBERS, { $num: 'Infinity' }, { $num: 'NaN' }, { $num: '-Infinity' }]);
  switch (rng.int(10)) {
    case 0: training.epoch = num(); break;
    case 1: training.globalStep = num(); break;
    case 2: training.history = rng.pick<unknown>([{ loss: 1 }, null, 5, [null], [{ loss: 'abc' }], [[1]]]); break;
    case 3: training.rng = rng.pick<unknown>([null, { global: null }, { global: { seed: num(), counter: 0 } }, { modules: { '0': null } }, { modules: { '0': { seed: 1, calls: num() } } }]); break;
    case 4: opt.paramGroups[0][rng.pick(['lr', 'eps', 'weightDecay', 'betas', 'initialLr'])] = num(); break;
    case 5: opt.state['0'] = rng.pick<unknown>([{ ...opt.state['0'], step: num() }, null, 5, { step: 1, exp_avg: 3 }]); break;
    case 6: training.scheduler = rng.pick<unknown>([null, 5, { ...training.scheduler, lastEpoch: num() }, { ...training.scheduler, baseLrs: [num()] }, { ...training.scheduler, scheduler: 'CosineAnnealingLR' }]); break;
    case 7: training.earlyStopping = { best: 1, bestEpoch: num(), wait: num(), stoppedEpoch: -1 }; break;
    case 8: opt.paramGroups = rng.pick<unknown>([null, [], [{}], 5, [{ ...opt.paramGroups[0], params: [0, 1, 2, 3, 99] }]]); break;
    default: {
      const key = rng.pick(['tread.training', 'tread.optimizer']);
      const depth = 1 + rng.int(200_000);
      meta[key] = rng.pick([`{"epoch":1,"epoch":2}`, '{', `{"extra":${'['.repeat(depth)}${']'.repeat(depth)}}`, '[]', 'null', '"x"']);
      return;
    }
  }
  meta['tread.training'] = JSON.stringify(training);
  meta['tread.optimizer'] = JSON.stringify(opt);
}

function structured(rng: FuzzRandom, base: Uint8Array): Uint8Array {
  const { header, data } = split(base);
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  const name = rng.pick(names);
  // 0-8: the header and data; 9-13: the training and optimizer JSON of a checkpoint.
  switch (rng.int(14)) {
    case 0: { // the header length lies
      const n = BigInt(encoder.encode(JSON.stringify(header)).length);
      return file(JSON.stringify(header), data, rng.pick([0n, 1n, n - 1n, n + 1n, n + 8n, 2n ** 63n, 2n ** 64n - 1n, 100_000_001n, BigInt(rng.int(1 << 30))]));
    }
    case 1: // huge or malformed shapes
      header[name].shape = rng.pick<unknown>([[2 ** 31, 2 ** 31], [1e15], [-1], [1.5], ['3'], [2 ** 53 + 1], [0, 1e300], [], null, [1e400], Array(40).fill(2)]);
      break;
    case 2: { // offsets
      const [b, e] = header[name].data_offsets;
      header[name].data_offsets = rng.pick<unknown>([[e, b], [b + 4, e + 4], [b - 4, e - 4], [0, e - b], [b, 2 ** 53 + 2], [b, e, 0], [-4, e], null, [b, e + 1e400]]);
      break;
    }
    case 3: { // NaN/Inf in the data (a legal file; it loads)
      const d = data.slice();
      const dv = new DataView(d.buffer);
      for (let k = 0; k < 4 && d.length >= 4; k++) dv.setFloat32(4 * rng.int(d.length >> 2), rng.pick([NaN, Infinity, -Infinity, 3.4e38]), true);
      return file(JSON.stringify(header), d);
    }
    case 4: // dtypes
      header[name].dtype = rng.pick<unknown>(['F8_E4M3', 'F8_E5M2', 'U32', 'C64', 'F64', 'I64', 'BOOL', 'U8', 'I8', 'f32', 7, null, '__proto__', 'constructor']);
      break;
    case 5: { // a key named twice (text level: JSON.stringify cannot write it)
      const text = JSON.stringify(header);
      const dup = rng.chance(0.3) ? `"__metadata__":{"format":"np"}` : `"${name}":${JSON.stringify({ ...header[name], dtype: 'I32' })}`;
      return file(`${text.slice(0, -1)},${dup}}`, data);
    }
    case 6: { // invalid UTF-8 in the header
      const h = encoder.encode(JSON.stringify(header)).slice();
      const at = 1 + rng.int(h.length - 2);
      const bad = rng.pick([[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xc0, 0x80]]);
      return file(concat(h.subarray(0, at), Uint8Array.from(bad), h.subarray(at)), data);
    }
    case 7: { // deep nesting
      const depth = 1 + rng.int(rng.chance(0.5) ? 40 : 300_000);
      const text = JSON.stringify(header).replace(`"${name}":{`, `"${name}":{"deep":${'['.repeat(depth)}${']'.repeat(depth)},`);
      return file(text, data);
    }
    case 8: { // many entries
      const extra = Array.from({ length: 100 + rng.int(5000) }, (_, i) => `"x${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`).join(',');
      return file(`${JSON.stringify(header).slice(0, -1)},${extra}}`, data);
    }
    default: // the training and optimizer JSON
      if (header.__metadata__?.['tread.training'] && header.__metadata__?.['tread.optimizer']) mutateJsonState(rng, header.__metadata__);
  }
  return file(JSON.stringify(header), data);
}

/** Every byte and number a load can change. */
function fingerprint(): string {
  const plain = (v: unknown): unknown =>
    v instanceof Tensor ? Array.from(v.toArray()) : Array.isArray(v) ? v.map(plain) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)])) : v;
  return JSON.stringify([[...model.stateDict()].map(([n, t]) => [n, Array.from(t.toArray())]), plain(optimizer.stateDict()), scheduler.stateDict()]);
}

function checkLoaded(): void {
  for (const g of optimizer.paramGroups) {
    for (const [k, v] of Object.entries(g)) {
      if (typeof v === 'number' && !(Number.isFinite(v) && v >= 0)) throw new ContractViolation(`loaded an optimizer group with ${k} = ${v}`);
    }
  }
  for (const st of optimizer.stateDict().state ? Object.values(optimizer.stateDict().state) : []) {
    const step = (st as Record<string, unknown>).step;
    if (step !== undefined && !(Number.isInteger(step) && (step as number) >= 0)) throw new ContractViolation(`loaded an optimizer state with step ${String(step)}`);
  }
}

export const safetensorsTarget: FuzzTarget = {
  name: 'safetensors',
  async prepare() {
    if (checkpoint) return;
    manualSeed(11);
    model = new nn.Sequential(new nn.Linear(3, 4), new nn.ReLU(), new nn.Linear(4, 2));
    optimizer = new Adam(model.parameters(), { lr: 0.01 });
    scheduler = new StepLR(optimizer, { stepSize: 2, gamma: 0.5 });
    const x = tensor(Float32Array.from({ length: 12 }, (_, i) => Math.cos(i)), [4, 3]);
    optimizer.zeroGrad();
    model.forward(x).sum().backward();
    optimizer.step();
    scheduler.step();
    checkpoint = encodeCheckpoint({
      model, optimizer, scheduler,
      training: { epoch: 1, globalStep: 1, history: [{ loss: 0.5 }], rng: { global: { seed: 5, counter: 2 }, modules: {} }, earlyStopping: { best: 0.5, bestEpoch: 0, wait: 0, stoppedEpoch: -1 } },
    });
    weights = encodeCheckpoint({ model });
    // The live state moves on past the files, so that a load that changed anything shows.
    optimizer.zeroGrad();
    model.forward(x).sum().backward();
    optimizer.step();
    scheduler.step();
    live = encodeCheckpoint({ model, optimizer, scheduler });
  },
  generate(rng) {
    const base = rng.chance(0.7) ? checkpoint : rng.chance(0.5) ? weights : weightsIn(rng);
    const r = rng.int(10);
    if (r < 5) return structured(rng, base);
    if (r < 9) return mutateBytes(rng, base);
    return mutateBytes(rng, structured(rng, base));
  },
  async run(input) {
    const parsed = parseSafetensors(input, 'fuzz.safetensors', LIMITS);
    for (const [n, t] of parsed.tensors) {
      const size = t.shape.reduce((a, d) => a * d, 1);
      if (t.data.length !== size) throw new ContractViolation(`tensor '${n}' has ${t.data.length} values for shape [${t.shape}]`);
    }
    const before = fingerprint();
    const withOptimizer = parsed.metadata['tread.optimizer'] !== undefined;
    try {
      applyCheckpoint(parsed, { model, optimizer: withOptimizer ? optimizer : null, scheduler: withOptimizer ? scheduler : null, strict: false }, 'fuzz checkpoint');
    } catch (e) {
      if (fingerprint() !== before) throw new ContractViolation(`a refused load changed the state (${(e as Error).message})`);
      throw e;
    }
    try {
      checkLoaded();
    } finally {
      // Back to the base state for the next case.
      applyCheckpoint(parseSafetensors(live), { model, optimizer, scheduler });
    }
  },
};
