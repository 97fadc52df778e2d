/** tensor(data, { dtype }) as PyTorch users write it, beside tensor(data, shape, options). */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tread from '../ts/index.js';

beforeAll(async () => {
  await tread.init({ threads: 1 });
});

describe('tensor()', () => {
  it('takes options second (nested data) or third (after a shape)', () => {
    const a = tread.tensor([[1, 2], [3, 4]], { dtype: 'int32' });
    expect(a.dtype).toBe('int32');
    expect(a.shape).toEqual([2, 2]);
    expect(a.tolist()).toEqual([[1, 2], [3, 4]]);
    const b = tread.tensor([1.5, 2.5], { requiresGrad: true });
    expect(b.requiresGrad).toBe(true);
    expect(b.shape).toEqual([2]);
    const c = tread.tensor([1, 2, 3, 4, 5, 6], [2, 3], { dtype: 'int32' });
    expect(c.shape).toEqual([2, 3]);
    expect(c.dtype).toBe('int32');
    expect(tread.tensor(2.5, { dtype: 'float32' }).shape).toEqual([]);
    expect(tread.tensor(Float32Array.of(1, 2), { requiresGrad: true }).shape).toEqual([2]);
    expect(tread.tensor([1.7, -1.7], { dtype: 'int32' }).tolist()).toEqual([1, -1]); // truncates, as torch.tensor(..., dtype=torch.int32)
  });

  it('checks the options and the data', () => {
    expect(() => tread.tensor([1], { requires_grad: true } as any)).toThrow(/tensor: unknown option 'requires_grad' \(did you mean 'requiresGrad'\?/);
    expect(() => tread.tensor([1], { dtype: 'int64' } as any)).toThrow(/tensor: dtype must be one of 'float32', 'int32', got "int64"/);
    expect(() => tread.tensor([1], [1], { dtyp: 'int32' } as any)).toThrow(/tensor: unknown option 'dtyp' \(did you mean 'dtype'\?/);
    expect(() => tread.tensor([[1, 2], [3]])).toThrow(/ragged nested array/);
    expect(() => tread.tensor([1, 2], { dtype: 'int32', requiresGrad: true })).toThrow(/only float32 tensors can require gradients/);
  });
});
