/**
 * Looking inside a model layer by layer, to find the first layer whose output is non-finite
 * and for the monitor's activation statistics. A tread Module of any structure is probed
 * with forward hooks on its leaf modules (`probeWithHooks`); other models that are
 * Sequential-like (nested ones included) are flattened into their leaf layers, whose forward
 * calls in order reproduce the model's forward; anything else is one opaque layer.
 */
import { noGrad } from '../autograd/engine.js';
import { Module, type RemovableHandle } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ModuleLike } from './types.js';

export interface LayerRef {
  /** Dotted path as in state-dict names ('0', '3.1'), '' for the whole model. */
  name: string;
  /** Class name of the layer ('Linear', 'ReLU' ...). */
  kind: string;
  module: ModuleLike;
}

function childrenOf(m: any): [string, any][] | null {
  if (typeof m.namedChildren === 'function') {
    const c = m.namedChildren();
    return c instanceof Map ? [...c.entries()] : Symbol.iterator in Object(c) ? [...c] : Object.entries(c);
  }
  if (typeof m.children === 'function') return [...m.children()].map((c: any, i: number) => [String(i), c]);
  return null;
}

export function isSequential(m: unknown): boolean {
  return !!m && typeof m === 'object' && (m as any).constructor?.name === 'Sequential' && childrenOf(m) !== null;
}

/** The leaf layers of a Sequential in forward order, or null if the model is not a Sequential. */
export function sequentialLayers(model: ModuleLike): LayerRef[] | null {
  if (!isSequential(model)) return null;
  const out: LayerRef[] = [];
  const walk = (m: any, prefix: string) => {
    for (const [name, c] of childrenOf(m)!) {
      const path = prefix ? `${prefix}.${name}` : name;
      if (isSequential(c)) walk(c, path);
      else out.push({ name: path, kind: c?.constructor?.name ?? 'Module', module: c });
    }
  };
  walk(model, '');
  return out;
}

/** True when every element is finite (int tensors always are). */
export function allFinite(t: Tensor): boolean {
  if (t.dtype !== 'float32') return true;
  const d = t.f32;
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    if (v - v !== 0) return false;
  }
  return true;
}

/**
 * Runs `x` through the layers one by one (no graph) and calls `visit` with each output.
 * Returns the final output. Outputs are temporaries of the current step.
 */
export function forwardLayers(layers: LayerRef[], x: Tensor, visit: (layer: LayerRef, out: Tensor, index: number) => boolean | void): Tensor {
  return noGrad(() => {
    let h = x;
    for (let i = 0; i < layers.length; i++) {
      h = layers[i].module.forward(h);
      if (visit(layers[i], h, i) === false) break;
    }
    return h;
  });
}

/**
 * Runs the probe through a Module tree (any structure: Sequential, custom forward, nested)
 * with a forward hook on every leaf module, calling `visit` with each leaf's dotted name
 * (state-dict style: '0', 'block.fc1'), class and output. Returns false, running nothing,
 * when the model is not a Module with hooks (the caller then walks a Sequential by hand).
 */
export function probeWithHooks(model: ModuleLike, x: Tensor, visit: (name: string, kind: string, out: unknown) => void): boolean {
  if (!(model instanceof Module)) return false;
  const leaves = model.namedModules().filter(([, m]) => m.children().length === 0);
  const handles: RemovableHandle[] = [];
  try {
    for (const [name, m] of leaves) {
      handles.push(m.registerForwardHook((mod, _inputs, out) => visit(name || mod.constructor.name, mod.constructor.name, out)));
    }
    noGrad(() => model.forward(x));
  } finally {
    for (const h of handles) h.remove();
  }
  return true;
}
