/**
 * After a WebAssembly trap the runtime refuses further use and says it must be re-initialised
 * (issue 11.3): a trap can leave the allocator mid-update and other tensors overwritten, so
 * going on could silently train on changed weights. The trap here is a kernel told to write
 * past the end of wasm memory. Its own file: the runtime stays poisoned afterwards.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tread from '../ts/index.js';
import { memoryBytes, wasm } from '../ts/runtime/wasm.js';
import { RuntimeTrappedError, runtimeUsable } from '../ts/runtime/trap.js';

beforeAll(async () => {
  await tread.init({ threads: 2 });
});

const REFUSED = /^tread: the WebAssembly core trapped in tread_fill \(.*out of bounds.*\); its memory may be inconsistent .* refuses further use: restart the process \(in a browser, reload the page\) to re-initialise it$/;

describe('a wasm trap', () => {
  it('poisons the runtime: the trapping call and every later use throw a re-initialise error', () => {
    const w = tread.tensor([1, 2, 3]);
    const model = new tread.nn.Linear(2, 2);
    expect(runtimeUsable()).toBe(true);
    const exp = wasm();
    // 16 floats starting 8 bytes before the end of memory: an out-of-bounds store, a trap.
    let err: unknown;
    try {
      exp.tread_fill(memoryBytes() - 8, 16, 7);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RuntimeTrappedError);
    expect((err as Error).message).toMatch(REFUSED);
    expect((err as Error).cause).toBeInstanceOf(WebAssembly.RuntimeError);
    expect(runtimeUsable()).toBe(false);

    // Nothing reads or computes on memory that may have been overwritten.
    expect(() => w.data).toThrow(REFUSED);
    expect(() => tread.tensor([1])).toThrow(REFUSED);
    expect(() => tread.add(w, w)).toThrow(REFUSED);
    expect(() => model.forward(tread.tensor([[1, 2]]))).toThrow(REFUSED);
    expect(() => exp.tread_fill(0, 0, 0)).toThrow(REFUSED);
    expect(() => wasm()).toThrow(REFUSED);
    // Giving memory back is not "use": dispose() stays quiet (the core is not called).
    expect(() => w.dispose()).not.toThrow();
  });
});
