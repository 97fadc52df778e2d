/** `Flatten(startDim = 1, endDim = -1)`: a reshape that shares storage; its gradient too. */
import { record } from '../../autograd/engine.js';
import { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';
import { shapeStr } from './util.js';
import { checkNumberOption, checkOptions } from '../../util/options.js';

export class Flatten extends Module {
  readonly startDim: number;
  readonly endDim: number;
  /** Flatten(startDim, endDim) as PyTorch's, or Flatten({ startDim, endDim }). */
  constructor(startDim: number | { startDim?: number; endDim?: number } = 1, endDim = -1) {
    super();
    if (startDim !== null && typeof startDim === 'object') {
      checkOptions('Flatten', startDim, ['startDim', 'endDim']);
      this.startDim = startDim.startDim ?? 1;
      this.endDim = startDim.endDim ?? -1;
    } else {
      this.startDim = startDim;
      this.endDim = endDim;
    }
    checkNumberOption('Flatten', 'startDim', this.startDim, { integer: true });
    checkNumberOption('Flatten', 'endDim', this.endDim, { integer: true });
  }

  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }

  forward(x: Tensor): Tensor {
    const nd = Math.max(x.ndim, 1);
    const s = this.startDim < 0 ? this.startDim + nd : this.startDim;
    const e = this.endDim < 0 ? this.endDim + nd : this.endDim;
    if (s < 0 || e >= nd || s > e) {
      throw new Error(`Flatten(${this.startDim}, ${this.endDim}): dimensions out of range for input ${shapeStr(x.shape)}`);
    }
    let mid = 1;
    for (let i = s; i <= e; i++) mid *= x.shape[i] ?? 1;
    const y = x.reshapeView(x.ndim === 0 ? [1] : [...x.shape.slice(0, s), mid, ...x.shape.slice(e + 1)]);
    return record(y, 'Flatten', [x], (g) => [g.reshapeView(x.shape)]);
  }
}
