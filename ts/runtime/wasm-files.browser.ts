/**
 * Browser twin of wasm-files.ts: one literal `new URL('./wasm/<file>.wasm', import.meta.url)`
 * per file, the form that Vite, webpack 5 and Parcel recognise as an asset reference (they
 * copy the file and rewrite the URL); without a bundler, or with esbuild, the files are
 * fetched from wasm/ next to dist/tread.browser.js (or from `init({ wasmDir })`).
 */
export type WasmName = 'tread-simd' | 'tread-simd-threads' | 'tread-relaxed' | 'tread-relaxed-threads';

export function defaultWasmUrls(name: WasmName): URL[] {
  switch (name) {
    case 'tread-simd':
      return [new URL('./wasm/tread-simd.wasm', import.meta.url)];
    case 'tread-simd-threads':
      return [new URL('./wasm/tread-simd-threads.wasm', import.meta.url)];
    case 'tread-relaxed':
      return [new URL('./wasm/tread-relaxed.wasm', import.meta.url)];
    case 'tread-relaxed-threads':
      return [new URL('./wasm/tread-relaxed-threads.wasm', import.meta.url)];
  }
}
