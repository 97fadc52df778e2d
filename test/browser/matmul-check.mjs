// Multiplies two matrices with tread and with a naive loop; returns the worst difference.
export function check(tread) {
  const m = 129, k = 67, n = 93;
  const a = new Float32Array(m * k).map((_, i) => Math.sin(i * 0.37));
  const b = new Float32Array(k * n).map((_, i) => Math.cos(i * 0.11));
  const c = tread.matmul(tread.tensor(a, [m, k]), tread.tensor(b, [k, n])).toArray();
  let worst = 0;
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
      worst = Math.max(worst, Math.abs(s - c[i * n + j]) / Math.max(1, Math.abs(s)));
    }
  return { worst, threadsUsed: tread.getThreads() };
}
