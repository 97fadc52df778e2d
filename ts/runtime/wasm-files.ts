/**
 * Where the four .wasm files are when `init()` is given no `wasmDir`: next to the bundle
 * (dist/tread.js -> dist/wasm/), or, when tread runs from its TypeScript sources (tests,
 * tsx), in the repository's dist/wasm/.
 *
 * The browser bundle (dist/tread.browser.js) is built with wasm-files.browser.ts instead
 * (rollup.config.mjs swaps any `x.ts` for a sibling `x.browser.ts`).
 */
export type WasmName = 'tread-simd' | 'tread-simd-threads' | 'tread-relaxed' | 'tread-relaxed-threads';

export function defaultWasmUrls(name: WasmName): URL[] {
  return [
    new URL(`./wasm/${name}.wasm`, import.meta.url), // dist/tread.js
    new URL(`../../dist/wasm/${name}.wasm`, import.meta.url), // ts/runtime/wasm-files.ts
  ];
}
