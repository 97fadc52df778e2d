/**
 * Custom ops with their own backward, as PyTorch's `torch.autograd.Function`:
 *
 *   class Cube extends tread.autograd.Function {
 *     static forward(ctx, x) { ctx.saveForBackward(x); return x.mul(x).mul(x); }
 *     static backward(ctx, g) { const [x] = ctx.savedTensors; return g.mul(x.mul(x)).mul(3); }
 *   }
 *   const y = Cube.apply(x);
 *
 * `forward(ctx, ...args)` runs without recording a graph (its ops are invisible to autograd)
 * and returns one tensor. `backward(ctx, grad)` returns one gradient per argument of forward
 * (a single tensor when there is one argument; null for arguments without a gradient or
 * that are not tensors), each of that argument's shape; it runs without recording too.
 * Other values go on ctx as plain properties (`ctx.scale = 2`), as in PyTorch. See
 * examples/custom_function.ts.
 */
import { shapeStr, Tensor } from '../tensor/tensor.js';
import { isGradEnabled, noGrad, record } from './engine.js';

/** What forward and backward share (PyTorch's `ctx`). */
export class FunctionCtx {
  /** The tensors given to saveForBackward, in order. */
  savedTensors: Tensor[] = [];
  /** One entry per argument of forward: true where that argument is a tensor requiring grad. */
  readonly needsInputGrad: readonly boolean[];
  /** Other values forward keeps for backward. */
  [key: string]: unknown;

  constructor(needsInputGrad: boolean[]) {
    this.needsInputGrad = needsInputGrad;
  }

  /** Keeps tensors for backward (PyTorch's `ctx.save_for_backward`). */
  saveForBackward(...tensors: (Tensor | null | undefined)[]): void {
    for (const [i, t] of tensors.entries()) {
      if (t !== null && t !== undefined && !(t instanceof Tensor)) throw new Error(`saveForBackward: argument ${i} is not a Tensor (put other values on ctx as properties)`);
    }
    this.savedTensors = tensors as Tensor[];
  }
}

type GradResult = Tensor | null | undefined | (Tensor | null | undefined)[];

/** What a subclass defines (not declared on Function itself, so no `override` is needed). */
interface Definition {
  name: string;
  forward?: (ctx: FunctionCtx, ...args: any[]) => unknown;
  backward?: (ctx: FunctionCtx, grad: Tensor) => GradResult;
}

/** Subclass it with static `forward` and `backward`; call `YourFunction.apply(...args)`. */
export class Function {
  /** Runs forward and, when an input requires grad, links the result to backward. */
  static apply(...args: any[]): Tensor {
    const def = this as unknown as Definition;
    const name = def.name || 'Function';
    if (typeof def.forward !== 'function') throw new Error(`${name}: a subclass of autograd.Function must define static forward(ctx, ...inputs)`);
    const ctx = new FunctionCtx(args.map((a) => a instanceof Tensor && a.requiresGrad && isGradEnabled()));
    const result = noGrad(() => def.forward!(ctx, ...args));
    if (!(result instanceof Tensor)) throw new Error(`${name}.forward must return a Tensor, got ${result === null ? 'null' : typeof result}`);
    // A new tensor object over the result's storage: forward may return an input (or a
    // tensor it keeps), whose own gradFn must not be overwritten.
    const y = new Tensor(result.shape, result.dtype, result.storage, result.offset);
    if (y.dtype !== 'float32') return y;
    const positions = args.map((a, i) => (a instanceof Tensor ? i : -1)).filter((i) => i >= 0);
    const inputs = positions.map((i) => args[i] as Tensor);
    return record(y, name, inputs, (g) => {
      if (typeof def.backward !== 'function') throw new Error(`${name}: a subclass of autograd.Function must define static backward(ctx, grad) to be differentiated`);
      let grads = noGrad(() => def.backward!(ctx, g));
      if (!Array.isArray(grads)) grads = [grads];
      if (grads.length !== args.length) {
        throw new Error(`${name}.backward returned ${grads.length} gradient(s) for ${args.length} argument(s) of forward (return null for those without one)`);
      }
      const seen = new Set<Tensor>();
      return positions.map((pos, k) => {
        const gi = (grads as GradResult[])[pos];
        if (gi === null || gi === undefined || !inputs[k].requiresGrad) return null;
        if (!(gi instanceof Tensor)) throw new Error(`${name}.backward: gradient ${pos} must be a Tensor or null, got ${typeof gi}`);
        const x = inputs[k];
        if (gi.dtype !== 'float32' || gi.shape.length !== x.shape.length || gi.shape.some((d, j) => d !== x.shape[j])) {
          throw new Error(`${name}.backward: gradient ${pos} is ${gi.dtype} ${shapeStr(gi.shape)}, the input is float32 ${shapeStr(x.shape)}`);
        }
        // The engine may add into a gradient it is handed; one tensor handed twice (or the
        // incoming grad, or a saved tensor) is copied so that nothing is added into twice.
        if (seen.has(gi) || gi === g || gi.requiresGrad || !gi.storage.temporary) {
          const copy = Tensor.empty(gi.shape, 'float32', true);
          copy.f32.set(gi.f32);
          return copy;
        }
        seen.add(gi);
        return gi;
      });
    });
  }
}
