/**
 * Reverse-mode automatic differentiation, define-by-run.
 *
 * Every differentiable op computes its output with a wasm kernel and then calls `record`,
 * giving the inputs and a backward function that maps the output's gradient to the inputs'
 * gradients (also computed by wasm kernels). `backward(root)` walks the recorded graph in
 * reverse topological order, sums gradients where a tensor fans out, runs each tensor's
 * gradient hooks (`registerHook`) once its gradient is complete, and accumulates into `.grad`
 * of leaves that require gradients (until `zeroGrad()`) and of results that `retainGrad()`.
 *
 * After a backward pass the graph is released (the closures and the tensors they saved can
 * go), as in PyTorch; pass `{ retainGraph: true }` to backward twice.
 */
import { GradNode, setBackwardHook, Shape, shapeStr, Tensor } from '../tensor/tensor.js';
import { addInto } from './accumulate.js';
import { accumulateGrad, applyGradHooks } from './grad_hooks.js';

/** Maps the gradient of an op's output to the gradients of its inputs (null: none needed). */
export type BackwardFn = (gradOutput: Tensor) => (Tensor | null)[];

export class Node implements GradNode {
  constructor(
    readonly name: string,
    readonly inputs: readonly Tensor[],
    public backwardFn: BackwardFn | null,
  ) {}
}

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs `fn` without recording a graph (evaluation, in-place parameter updates). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Runs `fn` with recording switched on, even inside noGrad. */
export function enableGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = true;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** True when an op on these inputs must be recorded. */
export function needsGrad(...inputs: (Tensor | null | undefined)[]): boolean {
  if (!gradEnabled) return false;
  for (const t of inputs) if (t && t.requiresGrad) return true;
  return false;
}

/**
 * Links `output` to `inputs` in the graph when any input requires a gradient (and grad mode
 * is on). Returns `output`. The backward function must return one entry per input, each
 * either null or a tensor of exactly that input's shape.
 */
export function record(output: Tensor, name: string, inputs: Tensor[], backward: BackwardFn): Tensor {
  if (!needsGrad(...inputs)) return output;
  output.requiresGrad = true;
  output.gradFn = new Node(name, inputs, backward);
  return output;
}

/** A detached alias of `t`: same storage, no graph, no gradient. */
export function detach(t: Tensor): Tensor {
  return t.reshapeView(t.shape);
}

function topoOrder(root: Tensor): Tensor[] {
  // Iterative DFS: deep graphs must not overflow the JS stack.
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const node = top[0].gradFn as Node | null;
    const inputs = node ? node.inputs : [];
    if (top[1] < inputs.length) {
      const next = inputs[top[1]++];
      if (next.requiresGrad && !seen.has(next)) {
        seen.add(next);
        stack.push([next, 0]);
      }
    } else {
      order.push(top[0]);
      stack.pop();
    }
  }
  return order.reverse(); // root first
}

export interface BackwardOptions {
  retainGraph?: boolean;
}

/**
 * Computes d(root)/d(leaf) for every leaf that requires grad, adding it to `leaf.grad`.
 * `gradient` defaults to 1 for a one-element root and is required otherwise.
 */
export function backward(root: Tensor, gradient?: Tensor, options: BackwardOptions = {}): void {
  if (!root.requiresGrad) {
    throw new Error('backward(): this tensor does not require grad (no input of the ops that made it requires grad, or it was made under noGrad)');
  }
  let seed: Tensor;
  if (gradient === undefined) {
    if (root.size !== 1) throw new Error(`backward(): gradient must be given for a non-scalar output of shape ${shapeStr(root.shape)}`);
    seed = Tensor.empty(root.shape, 'float32', true);
    seed.f32[0] = 1;
  } else {
    if (!sameShape(gradient.shape, root.shape)) {
      throw new Error(`backward(): gradient shape ${shapeStr(gradient.shape)} does not match output shape ${shapeStr(root.shape)}`);
    }
    seed = gradient;
  }
  const order = topoOrder(root);
  const grads = new Map<Tensor, Tensor>();
  // Sums the engine made itself: the only gradients it may add into in place (an op's
  // backward may hand the same tensor to several inputs, or return its incoming gradient).
  const sums = new Set<Tensor>();
  grads.set(root, seed);
  for (const t of order) {
    const complete = grads.get(t);
    if (complete === undefined) continue;
    grads.delete(t);
    // Every path into t has delivered its part: hooks see (and may replace) the whole gradient.
    const g = applyGradHooks(t, complete);
    const node = t.gradFn as Node | null;
    if (node === null) {
      accumulateGrad(t, g);
      continue;
    }
    if (t.retainsGrad) accumulateGrad(t, g);
    if (node.backwardFn === null) {
      throw new Error(`backward(): the graph through '${node.name}' was already freed by an earlier backward(); pass { retainGraph: true } to the first call`);
    }
    const inputGrads = node.backwardFn(g);
    for (let i = 0; i < node.inputs.length; i++) {
      const input = node.inputs[i];
      const ig = inputGrads[i];
      if (!input.requiresGrad || ig === null || ig === undefined) continue;
      if (!sameShape(ig.shape, input.shape)) {
        throw new Error(`backward(): '${node.name}' produced a gradient of shape ${shapeStr(ig.shape)} for an input of shape ${shapeStr(input.shape)}`);
      }
      const prev = grads.get(input);
      if (prev === undefined) grads.set(input, ig);
      else grads.set(input, sumGrads(prev, ig, sums));
    }
    if (!options.retainGraph) node.backwardFn = null;
  }
}

/** a + b for two gradients of one tensor; in place only into a sum made here before. */
function sumGrads(a: Tensor, b: Tensor, sums: Set<Tensor>): Tensor {
  if (sums.has(a)) {
    addInto(a, b);
    return a;
  }
  const out = Tensor.empty(a.shape, 'float32', true);
  out.f32.set(a.f32);
  addInto(out, b);
  sums.add(out);
  return out;
}

function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

setBackwardHook(backward);
