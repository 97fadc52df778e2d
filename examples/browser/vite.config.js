// vite.config.js
const isolated = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
export default {
  server: { headers: isolated }, // threads need a cross-origin isolated page
  preview: { headers: isolated },
  optimizeDeps: { exclude: ['tread'] }, // the dev server's pre-bundling would move tread away from its wasm/ folder
  worker: { format: 'es' }, // the worker is an ES module (imports, top-level await)
};
