# esbuild bundles the code; tread's wasm/ folder goes next to the bundle, where tread looks for it.
esbuild main.js worker.js --bundle --format=esm --outdir=public
cp -r node_modules/tread/dist/wasm public/wasm
cp index.html public/
