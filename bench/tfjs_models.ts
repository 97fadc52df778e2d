/**
 * The tfjs twins of bench/models.ts (the same MLP and CNN steps), shared by bench/train.ts
 * (Node) and bench/browser (Chromium), and the Conv2DBackpropFilter kernel that tfjs-wasm
 * lacks. Plain tfjs-core API: works with whichever backend is active.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * Conv2DBackpropFilter for tfjs-wasm, which does not ship one: for stride 1 and dilation 1,
 * dW[kh,kw,ci,co] = Σ_n,y,x X[n, y+kh-pt, x+kw-pl, ci] · dY[n,y,x,co], i.e. a convolution of
 * X viewed as [Ci, H, W, N] with dY viewed as a [OH, OW, N, Co] filter. Built from the
 * backend's own Transpose and Conv2D kernels.
 */
export function registerWasmConv2DBackpropFilter(): void {
  const transposeK = tf.getKernel('Transpose', 'wasm')!.kernelFunc as any;
  const conv2dK = tf.getKernel('Conv2D', 'wasm')!.kernelFunc as any;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }: any) => {
      const { x, dy } = inputs;
      const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
      const s = typeof strides === 'number' ? [strides, strides] : strides;
      if (s[0] !== 1 || s[1] !== 1) throw new Error('bench Conv2DBackpropFilter: stride 1 only');
      if (dataFormat && dataFormat !== 'NHWC') throw new Error('bench Conv2DBackpropFilter: NHWC only');
      const [fh, fw] = filterShape;
      const xT = transposeK({ inputs: { x }, backend, attrs: { perm: [3, 1, 2, 0] } }); // [Ci, H, W, N]
      const dyT = transposeK({ inputs: { x: dy }, backend, attrs: { perm: [1, 2, 0, 3] } }); // [OH, OW, N, Co]
      // 'same' padding of the forward becomes explicit padding here.
      let padArg: any = pad;
      if (pad === 'same') {
        const [, h, w] = x.shape;
        const ph = Math.max(0, dy.shape[1] - 1 + fh - h);
        const pw = Math.max(0, dy.shape[2] - 1 + fw - w);
        padArg = [[0, 0], [Math.floor(ph / 2), ph - Math.floor(ph / 2)], [Math.floor(pw / 2), pw - Math.floor(pw / 2)], [0, 0]];
      }
      const r = conv2dK({
        inputs: { x: xT, filter: dyT },
        backend,
        attrs: { strides: [1, 1], pad: padArg, dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode },
      }); // [Ci, KH, KW, Co]
      const out = transposeK({ inputs: { x: r }, backend, attrs: { perm: [1, 2, 0, 3] } }); // [KH, KW, Ci, Co]
      backend.disposeData(xT.dataId);
      backend.disposeData(dyT.dataId);
      backend.disposeData(r.dataId);
      return out;
    },
  });
}

/**
 * `init`: the initial weights in tfjs's layout and this order (bench/browser/init.ts makes them
 * from PyTorch's); default: random weights, zero biases.
 */
export function tfjsMlp(xData: Float32Array, yData: Int32Array, n: number, init?: Float32Array[]) {
  const glorot = (shape: number[], fanIn: number) => tf.variable(tf.randomUniform(shape, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn)));
  const given = init && ((i: number, shape: number[]) => tf.variable(tf.tensor(init[i]!, shape)));
  const w1 = given ? given(0, [784, 256]) : glorot([784, 256], 784), b1 = given ? given(1, [256]) : tf.variable(tf.zeros([256]));
  const w2 = given ? given(2, [256, 128]) : glorot([256, 128], 256), b2 = given ? given(3, [128]) : tf.variable(tf.zeros([128]));
  const w3 = given ? given(4, [128, 10]) : glorot([128, 10], 128), b3 = given ? given(5, [10]) : tf.variable(tf.zeros([10]));
  const x = tf.tensor2d(xData, [n, 784]);
  const y = tf.oneHot(tf.tensor1d(yData, 'int32'), 10);
  // epsilon 1e-8 as PyTorch's Adam and tread's (tfjs's default is 1e-7).
  return tfjsTrainer(tf.train.adam(1e-3, 0.9, 0.999, 1e-8), [w1, b1, w2, b2, w3, b3, x, y], () => {
    const h1 = tf.relu(tf.add(tf.matMul(x, w1), b1));
    const h2 = tf.relu(tf.add(tf.matMul(h1, w2), b2));
    const logits = tf.add(tf.matMul(h2, w3), b3);
    return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
  });
}

/** `init`: as tfjsMlp's (NHWC layouts: filters [kh, kw, Ci, Co], the dense rows over (h, w, c)). */
export function tfjsCnn(xData: Float32Array, yData: Int32Array, n: number, init?: Float32Array[]) {
  const u = (shape: number[], fanIn: number) => tf.variable(tf.randomUniform(shape, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn)));
  const given = init && ((i: number, shape: number[]) => tf.variable(tf.tensor(init[i]!, shape)));
  const k1 = given ? given(0, [3, 3, 1, 32]) : u([3, 3, 1, 32], 9), c1 = given ? given(1, [32]) : tf.variable(tf.zeros([32]));
  const k2 = given ? given(2, [3, 3, 32, 64]) : u([3, 3, 32, 64], 288), c2 = given ? given(3, [64]) : tf.variable(tf.zeros([64]));
  const w = given ? given(4, [1600, 10]) : u([1600, 10], 1600), b = given ? given(5, [10]) : tf.variable(tf.zeros([10]));
  const x = tf.tensor4d(xData, [n, 28, 28, 1]);
  const y = tf.oneHot(tf.tensor1d(yData, 'int32'), 10);
  return tfjsTrainer(tf.train.momentum(0.01, 0.9), [k1, c1, k2, c2, w, b, x, y], () => {
    const h1 = tf.maxPool(tf.relu(tf.add(tf.conv2d(x, k1 as tf.Tensor4D, 1, 'valid'), c1)) as tf.Tensor4D, 2, 2, 'valid');
    const h2 = tf.maxPool(tf.relu(tf.add(tf.conv2d(h1, k2 as tf.Tensor4D, 1, 'valid'), c2)) as tf.Tensor4D, 2, 2, 'valid');
    const logits = tf.add(tf.matMul(tf.reshape(h2, [n, 1600]), w), b);
    return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
  });
}

/** One tfjs training step = `opt.minimize(loss)` and a read of the loss (which waits for it). */
export function tfjsTrainer(opt: tf.Optimizer, tensors: tf.Tensor[], loss: () => tf.Scalar) {
  const step = () => {
    const cost = opt.minimize(loss, true)!;
    const v = cost.dataSync()[0];
    cost.dispose();
    return v;
  };
  const dispose = () => {
    tensors.forEach((t) => t.dispose());
    opt.dispose();
  };
  return { step, dispose };
}
