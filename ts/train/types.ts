/**
 * The shapes fit() needs from a model, an optimizer and a scheduler. They are structural,
 * so ts/train does not depend on the classes' internals: tread's nn.Module, optim.* and
 * lr_scheduler.* fit them, and so does a hand-written object with the same methods.
 */
import type { Tensor } from '../tensor/tensor.js';

/** A state dict as nn.Module returns it: a Map or a plain object of name -> tensor. */
export type StateDictLike = Map<string, Tensor> | Record<string, Tensor>;

export interface ModuleLike {
  forward(x: Tensor, ...rest: any[]): Tensor;
  parameters(): Tensor[] | Iterable<Tensor>;
  namedParameters(): Iterable<[string, Tensor]> | Map<string, Tensor> | Record<string, Tensor>;
  stateDict(): StateDictLike;
  loadStateDict(sd: any, options?: { strict?: boolean }): unknown;
  train(mode?: boolean): unknown;
  eval(): unknown;
  training?: boolean;
}

export interface ParamGroupLike {
  params: Tensor[];
  lr: number;
  [option: string]: any;
}

export interface OptimizerLike {
  paramGroups: ParamGroupLike[];
  zeroGrad(setToNone?: boolean): void;
  step(): unknown;
  stateDict(): any;
  loadStateDict(sd: any): void;
}

export interface SchedulerLike {
  step(metric?: number): void;
  stateDict?(): any;
  loadStateDict?(sd: any): void;
}

/** Name -> tensor entries of a state dict or of namedParameters(), whatever container it is. */
export function entriesOf(sd: Map<string, Tensor> | Record<string, Tensor> | Iterable<[string, Tensor]>): [string, Tensor][] {
  if (sd instanceof Map) return [...sd.entries()];
  if (Symbol.iterator in Object(sd)) return [...(sd as Iterable<[string, Tensor]>)];
  return Object.entries(sd as Record<string, Tensor>);
}
