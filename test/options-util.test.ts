import { describe, expect, it } from 'vitest';
import { camelCase, checkNumberOption, checkOneOf, checkOptions, nearest } from '../ts/util/options.js';
import { MaxPool2d } from '../ts/nn/layers/pool.js';
import { Conv2d } from '../ts/nn/layers/conv.js';

describe('options checking (ts/util/options)', () => {
  it('maps PyTorch snake_case names to camelCase', () => {
    expect(camelCase('step_size')).toBe('stepSize');
    expect(camelCase('T_max')).toBe('tMax');
    expect(camelCase('T_0')).toBe('t0');
    expect(camelCase('lr')).toBe('lr');
  });
  it('finds the meant key: snake_case, case and small typos; nothing for far keys', () => {
    const known = ['batchSize', 'shuffle', 'dropLast', 'seed'];
    expect(nearest('batch_size', known)).toBe('batchSize');
    expect(nearest('batchsize', known)).toBe('batchSize');
    expect(nearest('shufle', known)).toBe('shuffle');
    expect(nearest('drop_last', known)).toBe('dropLast');
    expect(nearest('workers', known)).toBeUndefined();
    expect(nearest('iters', ['iterations', 'tolerance'])).toBe('iterations');
    expect(nearest('dro', ['dropout', 'dropLast'])).toBeUndefined(); // ambiguous
  });
  it('throws on unknown keys with the owner, the key, a hint and the known keys', () => {
    expect(() => checkOptions('DataLoader', { batch_size: 8 }, ['batchSize', 'shuffle'])).toThrow(
      /DataLoader: unknown option 'batch_size' \(did you mean 'batchSize'\? tread's options are camelCase\); known: batchSize, shuffle/,
    );
    expect(() => checkOptions('X', { zzz: 1 }, ['a'])).toThrow(/unknown option 'zzz'; known: a/);
    expect(() => checkOptions('X', 3, ['a'])).toThrow(/options must be an object, got number/);
    expect(() => checkOptions('X', [1], ['a'])).toThrow(/got an array/);
    // PyTorch's positional arguments: the error says how tread takes them.
    expect(() => new MaxPool2d(3, 2 as never)).toThrow(
      /MaxPool2d: options must be an object, got number 2: tread takes the optional arguments by name, e\.g\. \{ stride: 2 \} \(options: stride, padding, dilation, ceilMode\)/,
    );
    expect(() => new Conv2d(3, 16, 3, 1 as never)).toThrow(/Conv2d: options must be an object, got number 1: .*\{ stride: 1 \}/);
    expect(() => checkOptions('X', undefined, ['a'])).not.toThrow();
    expect(() => checkOptions('X', { a: 1 }, ['a'])).not.toThrow();
  });
  it('checks numbers and choices', () => {
    expect(() => checkNumberOption('L', 'p', 1.5, { min: 0, max: 1 })).toThrow(/L: p must be <= 1, got 1.5/);
    expect(() => checkNumberOption('L', 'n', 2.5, { integer: true })).toThrow(/must be an integer/);
    expect(() => checkNumberOption('L', 'n', '2')).toThrow(/must be a number, got "2"/);
    expect(checkNumberOption('L', 'p', 0.5, { min: 0, max: 1 })).toBe(0.5);
    expect(() => checkOneOf('L', 'mode', 'mni', ['min', 'max'])).toThrow(/mode must be one of 'min', 'max', got "mni" \(did you mean 'min'\?\)/);
  });
});
