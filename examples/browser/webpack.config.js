// webpack.config.js: webpack 5 bundles the worker and copies tread's .wasm files by itself.
export default {
  mode: 'production',
  entry: './main.js',
  output: { path: new URL('./public/', import.meta.url).pathname },
  performance: { hints: false }, // the .wasm files are larger than webpack's 244 KiB hint
};
