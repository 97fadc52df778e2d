/**
 * Loading the WebAssembly core, once: `await init()`.
 *
 * Four variants are built (scripts/build-wasm.sh): `tread-simd` (one thread, own memory) and
 * `tread-simd-threads` (shared memory, tread's pool on workers), each also as `tread-relaxed*`
 * with relaxed SIMD (fused multiply-add in the hot kernels). `init` picks the threaded one
 * when threads are possible and asked for, and says why when they are not; and the relaxed
 * one when the engine has relaxed SIMD (Node 22+, Chromium 114+), unless told otherwise.
 */
import { hardwareThreads, hasRelaxedSimd, hasSimd, isNode, whyNoThreads } from './features.js';
import { defaultWasmUrls, type WasmName } from './wasm-files.js';
import { assertUsable, guardExports } from './trap.js';
import { WORKER_SOURCE } from './worker-source.js';
import { checkOptions } from '../util/options.js';

/** Every export is a plain C function over numbers (pointers are byte offsets). */
export type WasmFn = (...args: number[]) => number;
// (The memory and the TLS globals are exports too, read with casts: no WebAssembly type here,
// so that the published .d.ts also type-check in a Node project without the DOM lib.)
export type WasmExports = Record<string, WasmFn>;

export interface InitOptions {
  /**
   * Kernel threads: a number, or 'auto' (default: the hardware threads, at most 8). In Node
   * the `TREAD_THREADS` environment variable overrides 'auto'. 1 loads the single-threaded
   * build. Threads need shared memory and a thread that may block (see README).
   */
  threads?: number | 'auto';
  /** Where the .wasm files are (a folder URL or path); default: next to the bundle. */
  wasmDir?: string | URL;
  /**
   * Relaxed SIMD (f32x4 fused multiply-add where the CPU has FMA; results may differ from the
   * plain build in the last bits): 'auto' (default) uses it when the engine supports it, true
   * requires it (an error where it is missing), false loads the plain SIMD128 build. In Node
   * the `TREAD_RELAXED_SIMD` environment variable (0 or 1) overrides 'auto'.
   */
  relaxedSimd?: boolean | 'auto';
}

export type WasmVariant = 'tread-simd' | 'tread-simd-threads' | 'tread-relaxed' | 'tread-relaxed-threads';

export interface RuntimeInfo {
  variant: WasmVariant;
  /** True when the variant uses relaxed SIMD. */
  relaxedSimd: boolean;
  /** Size of the worker pool (1 when single-threaded). */
  poolThreads: number;
  /** Threads kernels use now (setThreads changes it, up to poolThreads). */
  threads: number;
  /**
   * Why fewer threads than asked for, if so; and when the relaxed-SIMD build was picked but its
   * file was missing, that the plain build runs instead (joined by '; ').
   */
  note: string | null;
}

const PAGE = 65536;
const INITIAL_PAGES = 512; // matches --initial-memory in scripts/build-wasm.sh
const MAX_PAGES = 65536; // 4 GiB, matches --max-memory
const WORKER_STACK = 2 << 20;

let exportsRef: WasmExports | null = null;
let memoryRef: WebAssembly.Memory | null = null;
let info: RuntimeInfo | null = null;
let pending: Promise<RuntimeInfo> | null = null;
const workers: { terminate(): unknown }[] = [];

/** The wasm exports; throws a clear error before `init()` and after a trap (trap.ts). */
export function wasm(): WasmExports {
  if (exportsRef === null) throw new Error('tread is not initialised: call `await tread.init()` first');
  assertUsable();
  return exportsRef;
}

/** The current buffer of wasm memory (a new object after memory grows). */
export function memoryBuffer(): ArrayBufferLike {
  if (memoryRef === null) throw new Error('tread is not initialised: call `await tread.init()` first');
  assertUsable();
  return memoryRef.buffer;
}

export function isInitialised(): boolean {
  return exportsRef !== null;
}

export function runtimeInfo(): RuntimeInfo {
  if (info === null) throw new Error('tread is not initialised: call `await tread.init()` first');
  return { ...info };
}

/** Changes how many threads kernels use, from 1 up to the pool size. */
export function setThreads(n: number): void {
  const r = runtimeInfo();
  if (!Number.isInteger(n) || n < 1) throw new Error(`setThreads: threads must be a positive integer, got ${n}`);
  if (n > r.poolThreads) {
    throw new Error(`setThreads: ${n} threads asked for, but the pool has ${r.poolThreads} (set at init)`);
  }
  wasm().tread_set_threads(n);
  info!.threads = n;
}

export function getThreads(): number {
  return runtimeInfo().threads;
}

/** Loads the core. Safe to call again: later calls return the first call's result. */
export function init(options: InitOptions = {}): Promise<RuntimeInfo> {
  try {
    checkOptions('init', options, ['threads', 'wasmDir', 'relaxedSimd']);
    if (options?.relaxedSimd !== undefined && typeof options.relaxedSimd !== 'boolean' && options.relaxedSimd !== 'auto') {
      throw new Error(`init: relaxedSimd must be true, false or 'auto', got ${JSON.stringify(options.relaxedSimd)}`);
    }
    if (options?.threads !== undefined && options.threads !== 'auto' && typeof options.threads !== 'number') {
      throw new Error(`init: threads must be a positive integer or 'auto', got ${JSON.stringify(options.threads)}`);
    }
  } catch (e) {
    return Promise.reject(e);
  }
  options ??= {};
  if (pending === null) pending = doInit(options);
  return pending;
}

async function resolveThreads(asked: number | 'auto' | undefined): Promise<number> {
  if (typeof asked === 'number') {
    if (!Number.isInteger(asked) || asked < 1) throw new Error(`init: threads must be a positive integer or 'auto', got ${asked}`);
    return asked;
  }
  const env = isNode ? process.env.TREAD_THREADS : undefined;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) throw new Error(`TREAD_THREADS must be a positive integer, got "${env}"`);
    return n;
  }
  return Math.min(8, Math.max(1, await hardwareThreads()));
}

/**
 * Whether to load a relaxed-SIMD variant: the option, then TREAD_RELAXED_SIMD, then detection;
 * `explicit` when the option or the variable asked for it (then a missing file is an error).
 */
function resolveRelaxed(asked: boolean | 'auto' | undefined): { relaxed: boolean; explicit: boolean } {
  const available = hasRelaxedSimd();
  let want: boolean | 'auto' = asked ?? 'auto';
  const env = isNode ? process.env.TREAD_RELAXED_SIMD : undefined;
  if (want === 'auto' && env !== undefined && env !== '') {
    if (env !== '0' && env !== '1') throw new Error(`TREAD_RELAXED_SIMD must be 0 or 1, got "${env}"`);
    want = env === '1';
  }
  if (want === true && !available) {
    throw new Error(
      'init: relaxedSimd: true, but this engine has no relaxed SIMD (Node 22+, Chromium 114+; Node 20 needs ' +
        '--experimental-wasm-relaxed-simd); pass relaxedSimd: \'auto\' to fall back to plain SIMD',
    );
  }
  return want === 'auto' ? { relaxed: available, explicit: false } : { relaxed: want, explicit: true };
}

async function loadBytes(name: WasmName, dir: string | URL | undefined): Promise<ArrayBuffer> {
  const candidates: URL[] = [];
  if (dir !== undefined) {
    const base = typeof dir === 'string' && isNode && !/^[a-z]+:/i.test(dir)
      ? new URL(`file://${(await import('node:path')).resolve(dir)}/`)
      : new URL(String(dir).endsWith('/') ? String(dir) : `${String(dir)}/`, (globalThis as any).location?.href);
    candidates.push(new URL(`${name}.wasm`, base));
  } else {
    candidates.push(...defaultWasmUrls(name));
  }
  if (isNode && candidates.every((u) => u.protocol === 'file:')) {
    const fs = await import('node:fs');
    const { fileURLToPath } = await import('node:url');
    for (const url of candidates) {
      const path = fileURLToPath(url);
      if (fs.existsSync(path)) {
        const b = fs.readFileSync(path);
        return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
      }
    }
    throw new Error(`tread: ${name}.wasm not found (looked in ${candidates.map((u) => fileURLToPath(u)).join(', ')}); run \`npm run build\``);
  }
  const tried: string[] = [];
  for (const url of candidates) {
    const res = await fetch(url);
    // A dev server answers a missing file with its HTML page (status 200): check the bytes.
    const bytes = res.ok ? await res.arrayBuffer() : null;
    if (bytes && isWasm(bytes)) return bytes;
    tried.push(`${url.href} (${res.ok ? `not a .wasm file: ${res.headers.get('content-type') ?? 'no content type'}` : `HTTP ${res.status}`})`);
  }
  throw new Error(
    `tread: ${name}.wasm not found at ${tried.join(', ')}. Serve tread's dist/wasm/ folder there, or pass ` +
      "init({ wasmDir: '<url of a folder holding the tread-*.wasm files>' }); " +
      "with Vite add optimizeDeps: { exclude: ['tread'] } (see README, Bundlers)",
  );
}

/**
 * The bytes of the variant to run: the relaxed twin of `plain` when `relaxed` says so.
 *
 * A relaxed file that cannot be found (a `wasmDir` that holds only the two plain files, as
 * copied before the relaxed variants existed, or a bundler setup that copied only those) is
 * not an error when the relaxed build was only picked by detection (`relaxedSimd: 'auto'` and
 * no TREAD_RELAXED_SIMD=1): the plain build computes the same things (last bits aside, as
 * between any two variants), a little slower, and a hard failure after an upgrade would punish
 * a setup that followed the old instructions; so
 * init loads it and says so once (console.warn and `runtimeInfo().note`, naming the missing
 * file). When relaxed SIMD was asked for explicitly, the missing file is an error that names
 * it. A missing plain file is always an error.
 */
async function loadVariant(
  plain: 'tread-simd' | 'tread-simd-threads',
  relaxed: { relaxed: boolean; explicit: boolean },
  options: InitOptions,
): Promise<{ bytes: ArrayBuffer; relaxed: boolean; note: string | null }> {
  if (!relaxed.relaxed) return { bytes: await loadBytes(plain, options.wasmDir), relaxed: false, note: null };
  const name: WasmName = plain === 'tread-simd' ? 'tread-relaxed' : 'tread-relaxed-threads';
  try {
    return { bytes: await loadBytes(name, options.wasmDir), relaxed: true, note: null };
  } catch (e) {
    if (relaxed.explicit) {
      throw new Error(`init: relaxed SIMD was asked for (relaxedSimd: true or TREAD_RELAXED_SIMD=1), but ${(e as Error).message}`);
    }
    const bytes = await loadBytes(plain, options.wasmDir);
    const note = `tread: ${name}.wasm is missing, so the plain SIMD128 build ${plain}.wasm runs instead ` +
      `(correct results, without relaxed SIMD's fused multiply-add; copy all four tread-*.wasm files to use it): ${(e as Error).message}`;
    console.warn(note);
    return { bytes, relaxed: false, note };
  }
}

/** The wasm magic number, \0asm. */
function isWasm(bytes: ArrayBuffer): boolean {
  const b = new Uint8Array(bytes, 0, Math.min(4, bytes.byteLength));
  return b.length === 4 && b[0] === 0 && b[1] === 0x61 && b[2] === 0x73 && b[3] === 0x6d;
}

async function doInit(options: InitOptions): Promise<RuntimeInfo> {
  if (!hasSimd()) throw new Error('tread needs WebAssembly SIMD (Node 16.4+, Chrome 91+, Firefox 89+, Safari 16.4+)');
  const asked = await resolveThreads(options.threads);
  let note: string | null = null;
  let threads = asked;
  if (asked > 1) {
    const why = whyNoThreads();
    if (why !== null) {
      note = `tread: running on 1 thread instead of ${asked}: ${why}`;
      console.warn(note);
      threads = 1;
    }
  }
  const wanted = resolveRelaxed(options.relaxedSimd);
  const loaded = await loadVariant(threads === 1 ? 'tread-simd' : 'tread-simd-threads', wanted, options);
  const relaxed = loaded.relaxed;
  if (loaded.note !== null) note = note === null ? loaded.note : `${note}; ${loaded.note}`;
  if (threads === 1) {
    const single: WasmVariant = relaxed ? 'tread-relaxed' : 'tread-simd';
    const { instance } = await WebAssembly.instantiate(new Uint8Array(loaded.bytes), { tread: { spawn_worker: noSpawn } });
    exportsRef = guardExports(instance.exports) as unknown as WasmExports;
    memoryRef = instance.exports.memory as WebAssembly.Memory;
    info = { variant: single, relaxedSimd: relaxed, poolThreads: 1, threads: 1, note };
    return { ...info };
  }
  const multi: WasmVariant = relaxed ? 'tread-relaxed-threads' : 'tread-simd-threads';
  const bytes = loaded.bytes;
  const module = await WebAssembly.compile(bytes);
  const memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAX_PAGES, shared: true } as any);
  // The calling thread takes tasks too (crates/tread-core/src/parallel.rs): threads - 1 workers.
  const pool = await startWorkers(threads - 1);
  let next = 0;
  const instance = await WebAssembly.instantiate(module, {
    env: { memory },
    tread: {
      // Called by tread_pool_init once per pool worker (crates/tread-wasm/src/pool.rs); the
      // worker runs the pool's loop: tread_worker_run(index).
      spawn_worker: (builder: number) => pool[next++].post({ type: 'run', builder }),
    },
  });
  const exp = guardExports(instance.exports) as unknown as WasmExports;
  exportsRef = exp;
  memoryRef = memory;
  const tlsSize = (exp.__tls_size as unknown as WebAssembly.Global).value as number;
  const tlsAlign = (exp.__tls_align as unknown as WebAssembly.Global).value as number;
  await Promise.all(
    pool.map((w) => {
      // Pointers cross the ABI as i32: read them unsigned (memory above 2 GiB).
      const stack = exp.tread_alloc(WORKER_STACK) >>> 0;
      const tlsRaw = exp.tread_alloc(tlsSize + tlsAlign) >>> 0;
      if (stack === 0 || tlsRaw === 0) throw new Error('tread: out of memory while starting workers');
      const tls = Math.ceil(tlsRaw / tlsAlign) * tlsAlign;
      return w.start({ type: 'init', module, memory, stackTop: stack + WORKER_STACK, tls });
    }),
  );
  if (exp.tread_pool_init(threads - 1) !== 0) throw new Error('tread: the thread pool could not be built');
  // TREAD_POOL_SPIN: loads of the pool's epoch a worker spins before it parks (default 131072,
  // roughly 0.1 ms; 0 parks at once). For benchmarks: spinning wins on an idle machine, and
  // costs the main thread CPU time where the cores are oversubscribed.
  const spin = isNode ? process.env.TREAD_POOL_SPIN : undefined;
  if (spin !== undefined && spin !== '') {
    const n = Number(spin);
    if (!Number.isInteger(n) || n < 0 || n > 2 ** 31) throw new Error(`TREAD_POOL_SPIN must be an integer from 0 to 2^31, got "${spin}"`);
    exp.tread_pool_set_spin(n);
  }
  exp.tread_set_threads(threads);
  info = { variant: multi, relaxedSimd: relaxed, poolThreads: threads, threads, note };
  return { ...info };
}

function noSpawn(): never {
  throw new Error('tread: the single-threaded build cannot spawn workers');
}

interface PoolWorker {
  post(msg: unknown): void;
  start(msg: unknown): Promise<void>;
}

async function startWorkers(n: number): Promise<PoolWorker[]> {
  const out: PoolWorker[] = [];
  if (isNode) {
    const { Worker } = await import('node:worker_threads');
    for (let i = 0; i < n; i++) {
      const w = new Worker(WORKER_SOURCE, { eval: true });
      w.unref(); // pool threads never keep the process alive
      workers.push(w);
      out.push({
        post: (msg) => w.postMessage(msg),
        start: (msg) =>
          new Promise<void>((resolve, reject) => {
            w.once('message', () => resolve());
            w.once('error', reject);
            w.postMessage(msg);
          }),
      });
    }
    return out;
  }
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  for (let i = 0; i < n; i++) {
    const w = new (globalThis as any).Worker(url);
    workers.push(w);
    out.push({
      post: (msg) => w.postMessage(msg),
      start: (msg) =>
        new Promise<void>((resolve, reject) => {
          w.onmessage = () => resolve();
          w.onerror = (e: unknown) => reject(e);
          w.postMessage(msg);
        }),
    });
  }
  return out;
}

/** Bytes of wasm memory in use by the allocator's heap (grows, never shrinks). */
export function memoryBytes(): number {
  return memoryBuffer().byteLength;
}
export { PAGE };
