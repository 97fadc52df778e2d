// The checks that test/browser.test.ts runs on each wasm variant in a Worker: a GEMM with odd
// shapes, a convolution (forward and both gradients) and three SGD steps of a small MLP with
// cross-entropy, each against a plain JS reference in float64. Returns the worst relative
// errors and the raw results (so the page can also compare the variants with each other).

const rel = (got, want) => {
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i])));
  return got.length === want.length ? worst : Infinity;
};
const wave = (n, f) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * f + 0.3) * 0.5);

export function gemmCheck(tread) {
  const out = [];
  // Odd shapes: every edge of the microkernel's tiles, and k that is no multiple of 4.
  for (const [m, k, n] of [[129, 67, 93], [1, 301, 7], [37, 5, 130]]) {
    const a = wave(m * k, 0.37);
    const b = wave(k * n, 0.11);
    const c = tread.matmul(tread.tensor(a, [m, k]), tread.tensor(b, [k, n])).f32.slice();
    const want = new Float64Array(m * n);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
        want[i * n + j] = s;
      }
    out.push(rel(c, want));
  }
  return Math.max(...out);
}

export function convCheck(tread) {
  const [N, C, H, W, M, K, P] = [2, 3, 9, 11, 5, 3, 1];
  const conv = new tread.nn.Conv2d(C, M, K, { padding: P });
  conv.weight.f32.set(wave(M * C * K * K, 0.7));
  conv.bias.f32.set(wave(M, 1.3));
  const xs = wave(N * C * H * W, 0.05);
  const x = tread.tensor(xs, [N, C, H, W], { requiresGrad: true });
  const y = conv.forward(x);
  const up = wave(N * M * H * W, 0.21);
  y.backward(tread.tensor(up, [N, M, H, W]));
  const wt = conv.weight.f32.slice();
  const bias = conv.bias.f32.slice();
  const yRef = new Float64Array(N * M * H * W);
  const dx = new Float64Array(N * C * H * W);
  const dw = new Float64Array(M * C * K * K);
  for (let n = 0; n < N; n++)
    for (let m = 0; m < M; m++)
      for (let oy = 0; oy < H; oy++)
        for (let ox = 0; ox < W; ox++) {
          const o = ((n * M + m) * H + oy) * W + ox;
          let s = bias[m];
          for (let c = 0; c < C; c++)
            for (let ky = 0; ky < K; ky++)
              for (let kx = 0; kx < K; kx++) {
                const iy = oy + ky - P;
                const ix = ox + kx - P;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                const xi = ((n * C + c) * H + iy) * W + ix;
                const wi = ((m * C + c) * K + ky) * K + kx;
                s += xs[xi] * wt[wi];
                dx[xi] += up[o] * wt[wi];
                dw[wi] += up[o] * xs[xi];
              }
          yRef[o] = s;
        }
  return Math.max(rel(y.f32, yRef), rel(x.grad.f32, dx), rel(conv.weight.grad.f32, dw));
}

/** Three SGD steps of Linear(6, 16)-ReLU-Linear(16, 4) with cross-entropy on 8 samples. */
export function trainCheck(tread) {
  const [B, I, Hd, O, lr] = [8, 6, 16, 4, 0.5];
  const X = wave(B * I, 0.9);
  const Y = Int32Array.from({ length: B }, (_, i) => (i * 3) % O);
  const p = { W1: wave(Hd * I, 0.31), b1: wave(Hd, 0.17), W2: wave(O * Hd, 0.23), b2: wave(O, 0.41) };
  const l1 = new tread.nn.Linear(I, Hd);
  const l2 = new tread.nn.Linear(Hd, O);
  l1.weight.f32.set(p.W1); l1.bias.f32.set(p.b1); l2.weight.f32.set(p.W2); l2.bias.f32.set(p.b2);
  const model = new tread.nn.Sequential(l1, new tread.nn.ReLU(), l2);
  const opt = new tread.optim.SGD(model.parameters(), { lr });
  const lossFn = new tread.nn.CrossEntropyLoss();
  const x = tread.tensor(X, [B, I]);
  const y = tread.tensor(Y, [B], { dtype: 'int32' });
  const losses = [];
  for (let s = 0; s < 3; s++) {
    opt.zeroGrad();
    const loss = lossFn.forward(model.forward(x), y);
    loss.backward();
    opt.step();
    losses.push(loss.item());
  }
  // The reference: the same steps in float64.
  const r = { W1: Float64Array.from(p.W1), b1: Float64Array.from(p.b1), W2: Float64Array.from(p.W2), b2: Float64Array.from(p.b2) };
  const want = [];
  for (let s = 0; s < 3; s++) {
    const h = new Float64Array(B * Hd);
    const z = new Float64Array(B * O);
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < Hd; j++) {
        let v = r.b1[j];
        for (let i = 0; i < I; i++) v += X[b * I + i] * r.W1[j * I + i];
        h[b * Hd + j] = Math.max(0, v);
      }
      for (let o = 0; o < O; o++) {
        let v = r.b2[o];
        for (let j = 0; j < Hd; j++) v += h[b * Hd + j] * r.W2[o * Hd + j];
        z[b * O + o] = v;
      }
    }
    let loss = 0;
    const dz = new Float64Array(B * O);
    for (let b = 0; b < B; b++) {
      const row = z.subarray(b * O, b * O + O);
      const mx = Math.max(...row);
      let se = 0;
      for (const v of row) se += Math.exp(v - mx);
      loss += -(row[Y[b]] - mx - Math.log(se)) / B;
      for (let o = 0; o < O; o++) dz[b * O + o] = (Math.exp(row[o] - mx) / se - (o === Y[b] ? 1 : 0)) / B;
    }
    want.push(loss);
    const dh = new Float64Array(B * Hd);
    const g = { W1: new Float64Array(Hd * I), b1: new Float64Array(Hd), W2: new Float64Array(O * Hd), b2: new Float64Array(O) };
    for (let b = 0; b < B; b++)
      for (let o = 0; o < O; o++) {
        g.b2[o] += dz[b * O + o];
        for (let j = 0; j < Hd; j++) {
          g.W2[o * Hd + j] += dz[b * O + o] * h[b * Hd + j];
          dh[b * Hd + j] += dz[b * O + o] * r.W2[o * Hd + j];
        }
      }
    for (let b = 0; b < B; b++)
      for (let j = 0; j < Hd; j++) {
        if (h[b * Hd + j] <= 0) continue;
        g.b1[j] += dh[b * Hd + j];
        for (let i = 0; i < I; i++) g.W1[j * I + i] += dh[b * Hd + j] * X[b * I + i];
      }
    for (const k of Object.keys(r)) for (let i = 0; i < r[k].length; i++) r[k][i] -= lr * g[k][i];
  }
  return { worst: rel(losses, want), losses, reference: want };
}
