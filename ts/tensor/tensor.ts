/**
 * Tensor: a shape over a storage in wasm memory. float32 (values) or int32 (labels, indices).
 *
 * Zero-copy: `t.data` is a typed-array view straight onto wasm memory. It is re-made after
 * memory grows (a non-shared ArrayBuffer is detached by growth; a shared one is not but is
 * too short), so always read `t.data` again rather than keeping an old view across calls
 * that allocate. Tensors are contiguous and row-major; `reshape` shares storage.
 */
import { memoryBuffer } from '../runtime/wasm.js';
import { trackOwned, trackTemporary } from './lifetime.js';
import { formatTensor } from './format.js';
import { checkStorageBytes, DType, Storage, storageBytesOk } from './storage.js';

export type Shape = readonly number[];

/** A node of the autograd graph (defined by ts/autograd); tensor.ts only carries it. */
export interface GradNode {
  readonly name: string;
}

/** Set by ts/autograd/engine.ts, so that tensor.ts does not import the engine. */
let backwardHook: ((root: Tensor, gradient?: Tensor, options?: { retainGraph?: boolean }) => void) | null = null;
export function setBackwardHook(fn: typeof backwardHook): void {
  backwardHook = fn;
}

/** A gradient hook (Tensor.registerHook): sees the gradient; a returned tensor replaces it. */
export type GradHook = (grad: Tensor) => Tensor | void | undefined;

let nextGradHookId = 0;
let warnedNonLeafGrad = false;

/** PyTorch's UserWarning, once per process. */
function warnNonLeafGrad(): void {
  if (warnedNonLeafGrad) return;
  warnedNonLeafGrad = true;
  console.warn(
    'tread: the .grad of a tensor that is not a leaf (the result of an operation) is being read; it is not filled by backward(). ' +
      'Call .retainGrad() on it before backward() to keep its gradient (or registerHook() to see it). ' +
      'Leaves are tensors you made with requiresGrad (parameters).',
  );
}

/** For tests: the next non-leaf .grad read warns again. */
export function resetNonLeafGradWarning(): void {
  warnedNonLeafGrad = false;
}

export function shapeSize(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function checkShape(shape: Shape, where: string): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`${where}: invalid shape [${shape.join(', ')}]: dimensions must be non-negative integers`);
  }
}

export function shapeStr(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export class Tensor {
  readonly shape: Shape;
  readonly dtype: DType;
  readonly size: number;
  readonly storage: Storage;
  /** Element offset into the storage (non-zero only for views made by ops such as select). */
  readonly offset: number;
  requiresGrad = false;
  private gradValue: Tensor | null = null;
  /** Gradient hooks by id (registerHook), in registration order; null while there are none. */
  gradHooks: Map<number, GradHook> | null = null;
  private retaining = false;
  /** The operation that made this tensor, when it is part of a recorded graph. */
  gradFn: GradNode | null = null;
  /** A name for messages (parameters get theirs from the module tree). */
  name: string | null = null;

  private cachedView: Float32Array | Int32Array | null = null;

  /** Low level: use tensor(), zeros(), empty() or an operation instead. */
  constructor(shape: Shape, dtype: DType, storage: Storage, offset = 0) {
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.size = shapeSize(shape);
    this.storage = storage;
    this.offset = offset;
  }

  /**
   * A new, uninitialised tensor. `temporary` marks the result of an operation (freed with its
   * training step, see lifetime.ts); otherwise it is owned (freed by dispose() or GC).
   */
  static empty(shape: Shape, dtype: DType = 'float32', temporary = false): Tensor {
    checkShape(shape, 'empty');
    const bytes = shapeSize(shape) * 4;
    // The message (shapeStr) only when it is needed: this runs for every tensor an op makes.
    if (!storageBytesOk(bytes)) checkStorageBytes(bytes, `tread: a ${dtype} tensor of shape ${shapeStr(shape)}`);
    const storage = new Storage(bytes, temporary);
    if (temporary) trackTemporary(storage);
    else trackOwned(storage);
    return new Tensor(shape, dtype, storage);
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** Byte address of the first element in wasm memory. Throws if the tensor was freed. */
  get ptr(): number {
    this.assertLive();
    return this.storage.ptr + this.offset * 4;
  }

  /** A live view of the elements (no copy). Writes go straight to the tensor. */
  get data(): Float32Array | Int32Array {
    this.assertLive();
    const addr = this.storage.ptr + this.offset * 4; // moves a spilled storage back in (lifetime.ts)
    const buf = memoryBuffer();
    if (this.cachedView === null || this.cachedView.buffer !== buf || this.cachedView.byteOffset !== addr) {
      const Ctor = this.dtype === 'int32' ? Int32Array : Float32Array;
      this.cachedView = new Ctor(buf as ArrayBuffer, addr, this.size);
    }
    return this.cachedView;
  }

  /** The view as Float32Array; throws for int32 tensors. */
  get f32(): Float32Array {
    if (this.dtype !== 'float32') throw new Error(`expected a float32 tensor, got ${this.dtype} ${shapeStr(this.shape)}`);
    return this.data as Float32Array;
  }

  get isFreed(): boolean {
    return this.storage.freed;
  }

  assertLive(): void {
    const why = this.freedMessage();
    if (why !== null) throw new Error(why);
  }

  /** Why this tensor can no longer be used (with what to do instead), or null while it is live. */
  freedMessage(): string | null {
    if (!this.storage.freed) return null;
    const what = `${this.name ? `'${this.name}' ` : ''}${this.dtype} tensor ${shapeStr(this.shape)}`;
    switch (this.storage.freeReason) {
      case 'step':
        return (
          `tread: ${what} was released: results of operations live until the end of the next training step ` +
          `(optimizer.step() or the next DataLoader batch). Call .keep() to hold it longer, or read it out with .toArray() / .item().`
        );
      case 'scope':
        return `tread: ${what} was released at the end of the tidy() scope that made it; return it from the scope or call .keep().`;
      default:
        return `tread: ${what} was used after dispose()`;
    }
  }

  /** The single value of a one-element tensor. */
  item(): number {
    this.assertLive();
    if (this.size !== 1) throw new Error(`item(): tensor has ${this.size} elements ${shapeStr(this.shape)}, expected 1`);
    return this.data[0];
  }

  /** A copy of the elements as a plain typed array (survives the tensor). */
  toArray(): Float32Array | Int32Array {
    return this.data.slice();
  }

  /** Nested JS arrays, as PyTorch's tolist(). */
  tolist(): any {
    const d = this.data;
    const rec = (dim: number, off: number): any => {
      if (dim === this.shape.length) return d[off];
      const stride = shapeSize(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim] }, (_, i) => rec(dim + 1, off + i * stride));
    };
    return this.shape.length === 0 ? d[0] : rec(0, 0);
  }

  /** Holds this tensor beyond its training step or tidy scope (until dispose() or GC). */
  keep(): this {
    this.assertLive();
    this.storage.kept = true;
    return this;
  }

  /** Frees the memory now. Every tensor sharing the storage becomes unusable. */
  dispose(): void {
    this.storage.free('disposed');
    this.cachedView = null;
  }

  /** Sets requiresGrad (on leaves), returns this. */
  requiresGrad_(flag = true): this {
    if (flag && this.dtype !== 'float32') throw new Error(`requiresGrad: only float32 tensors can require gradients, got ${this.dtype}`);
    this.requiresGrad = flag;
    return this;
  }

  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  /**
   * Accumulated gradient (owned by this tensor), filled by backward() for leaves that require
   * grad and for results that `retainGrad()`. Reading it on any other result warns once (as
   * PyTorch does): it stays null.
   */
  get grad(): Tensor | null {
    if (this.gradFn !== null && !this.retaining) warnNonLeafGrad();
    return this.gradValue;
  }

  set grad(g: Tensor | null) {
    this.gradValue = g;
  }

  /** True when backward() fills `.grad` of this result of an operation (`retainGrad()`). */
  get retainsGrad(): boolean {
    return this.retaining;
  }

  /**
   * Makes backward() fill `.grad` of this result of an operation (dL/dh of an activation),
   * as PyTorch's `retain_grad()`; gradients accumulate over backward calls like a leaf's.
   * A no-op on a leaf, which gets its `.grad` anyway. Returns this.
   */
  retainGrad(): this {
    if (!this.requiresGrad) {
      throw new Error(`retainGrad(): this ${shapeStr(this.shape)} tensor does not require grad (no input of the ops that made it requires grad, or it was made under noGrad)`);
    }
    if (this.gradFn !== null) this.retaining = true;
    return this;
  }

  /**
   * As PyTorch's `register_hook`: `hook(grad)` is called with the gradient of this tensor
   * each time backward() computes it; returning a tensor of the same shape replaces the
   * gradient (for this tensor's `.grad` and for everything upstream). The hook must not
   * modify `grad` in place. Returns a handle: `handle.remove()`.
   */
  registerHook(hook: GradHook): { readonly id: number; remove(): void } {
    if (typeof hook !== 'function') throw new Error(`registerHook: expected a function (grad) => Tensor | void, got ${typeof hook}`);
    if (!this.requiresGrad) throw new Error(`registerHook: cannot register a hook on a ${shapeStr(this.shape)} tensor that does not require grad`);
    const hooks = (this.gradHooks ??= new Map());
    const id = nextGradHookId++;
    hooks.set(id, hook);
    return {
      id,
      remove: () => {
        hooks.delete(id);
        if (hooks.size === 0 && this.gradHooks === hooks) this.gradHooks = null;
      },
    };
  }

  /**
   * Computes gradients of this tensor with respect to every leaf that requires them,
   * accumulating into their `.grad` (see ts/autograd/engine.ts).
   */
  backward(gradient?: Tensor, options?: { retainGraph?: boolean }): void {
    if (backwardHook === null) throw new Error('tread: autograd is not loaded');
    backwardHook(this, gradient, options);
  }

  /** A view of the same storage with another shape of the same size (no gradient link). */
  reshapeView(shape: Shape): Tensor {
    const resolved = resolveShape(shape, this.size, 'reshape');
    const t = new Tensor(resolved, this.dtype, this.storage, this.offset);
    return t;
  }

  /** As PyTorch prints it: `tensor([[1., 2.], [3., 4.]], requires_grad=True)` (see format.ts). */
  toString(): string {
    if (this.storage.freed) return `Tensor(${shapeStr(this.shape)}, ${this.dtype}, freed)`;
    return formatTensor(this);
  }

  /** console.log(t) and util.inspect(t) in Node print the values, as PyTorch's print(t). */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/** Resolves one -1 in a shape against a size; checks the product. */
export function resolveShape(shape: Shape, size: number, where: string): number[] {
  const out = [...shape];
  const unknown = out.indexOf(-1);
  if (unknown !== out.lastIndexOf(-1)) throw new Error(`${where}: only one dimension can be -1, got ${shapeStr(shape)}`);
  if (unknown >= 0) {
    const rest = shapeSize(out.filter((_, i) => i !== unknown));
    if (rest === 0 || size % rest !== 0) throw new Error(`${where}: cannot infer -1 in ${shapeStr(shape)} for ${size} elements`);
    out[unknown] = size / rest;
  }
  checkShape(out, where);
  if (shapeSize(out) !== size) throw new Error(`${where}: shape ${shapeStr(shape)} does not match ${size} elements`);
  return out;
}
