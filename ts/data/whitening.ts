/**
 * PCA and ZCA whitening, fitted on training data only (rows of an [N, D] tensor; more
 * dimensions are flattened per sample):
 *
 *   mean, C = population covariance of the training rows (f64, in the WASM core)
 *   C = V·diag(λ)·Vᵀ     (symmetric eigendecomposition: Householder + QL, f64)
 *   PCA:  out = (x - mean)·V_k·diag(1/sqrt(λ_k + eps))        [N, k], components by decreasing λ
 *   ZCA:  out = (x - mean)·V·diag(1/sqrt(λ + eps))·Vᵀ          [N, D], same shape as x
 *
 * Eigenvector signs are arbitrary (PCA outputs may differ in sign per component from another
 * library; ZCA does not depend on them). Eigenvalues below 0 from rounding count as 0.
 * The whitening matrix W is kept in wasm memory (float32); applying it is one centring pass
 * and an SGEMM per 1024 rows. State (mean, eigenvalues, eigenvectors) is plain JSON.
 */
import { wasm } from '../runtime/wasm.js';
import { Tensor, shapeSize, shapeStr } from '../tensor/tensor.js';
import type { BatchTransform } from './transforms.js';
import { f32View, f64View, withScratch } from './util.js';
import { checkNumberOption, checkOptions } from '../util/options.js';

export interface WhiteningState {
  type: 'PCAWhitening' | 'ZCAWhitening';
  eps: number;
  /** Components kept (k); D for ZCA. */
  nComponents: number;
  mean: number[];
  /** All D eigenvalues of the training covariance, decreasing. */
  eigenvalues: number[];
  /** The first k eigenvectors (rows, k × D flat) — all D for ZCA. */
  components: number[];
}

abstract class Whitening implements BatchTransform {
  abstract readonly name: 'PCAWhitening' | 'ZCAWhitening';
  readonly eps: number;
  protected readonly askedComponents: number | null;
  mean: Float64Array | null = null;
  eigenvalues: Float64Array | null = null;
  /** k × D, rows = eigenvectors by decreasing eigenvalue. */
  components: Float64Array | null = null;
  nComponents = 0;
  private w: Tensor | null = null;
  private d = 0;

  constructor(options: { eps?: number; nComponents?: number } = {}) {
    checkOptions(new.target.name, options, new.target.name === 'ZCAWhitening' ? ['eps'] : ['eps', 'nComponents']);
    options ??= {};
    if (options.nComponents != null) checkNumberOption(new.target.name, 'nComponents', options.nComponents, { integer: true, min: 1 });
    this.eps = options.eps ?? 1e-5;
    if (!(this.eps >= 0)) throw new Error(`whitening: eps must be >= 0, got ${this.eps}`);
    this.askedComponents = options.nComponents ?? null;
  }

  protected abstract get zca(): boolean;

  private rows(x: Tensor, where: string): [number, number] {
    if (x.dtype !== 'float32') throw new Error(`${this.name}.${where}: expected float32, got ${x.dtype}`);
    if (x.ndim < 2) throw new Error(`${this.name}.${where}: expected rows [N, D], got ${shapeStr(x.shape)}`);
    return [x.shape[0], shapeSize(x.shape.slice(1))];
  }

  /** Fits mean and covariance eigendecomposition on the training rows. */
  fit(x: Tensor): this {
    const [n, d] = this.rows(x, 'fit');
    if (n < 2) throw new Error(`${this.name}.fit: need at least 2 samples, got ${n}`);
    const k = this.zca ? d : (this.askedComponents ?? d);
    if (!Number.isInteger(k) || k < 1 || k > d) throw new Error(`${this.name}: nComponents must be in 1..${d}, got ${k}`);
    const bytes = 8 * (d + d * d + d + d * d);
    withScratch(bytes, (p) => {
      const meanP = p;
      const covP = meanP + 8 * d;
      const valsP = covP + 8 * d * d;
      const vecsP = valsP + 8 * d;
      const w = wasm();
      w.tread_data_covariance(x.ptr, n, d, meanP, covP);
      if (w.tread_data_sym_eigen(covP, d, valsP, vecsP) !== 0) throw new Error(`${this.name}.fit: the eigendecomposition did not converge (non-finite data?)`);
      this.mean = f64View(meanP, d).slice();
      this.eigenvalues = f64View(valsP, d).slice();
      this.components = f64View(vecsP, k * d).slice();
    });
    this.nComponents = k;
    this.build(d);
    return this;
  }

  /** Computes W from the state. */
  private build(d: number): void {
    const k = this.nComponents;
    this.w?.dispose();
    const w = Tensor.empty([d, k], 'float32').keep();
    // The kernel wants all D eigenvectors for ZCA; for PCA only the first k are read.
    const rows = this.zca ? d : k;
    withScratch(8 * (d + d * d), (p) => {
      f64View(p, d).set(this.eigenvalues!);
      const vecs = f64View(p + 8 * d, d * d);
      vecs.fill(0);
      vecs.set(this.components!.subarray(0, rows * d));
      wasm().tread_data_whitening_matrix(p, p + 8 * d, d, k, this.eps, this.zca ? 1 : 0, w.ptr);
    });
    this.w = w;
    this.d = d;
  }

  /** The whitened rows: [N, k] for PCA, the shape of x for ZCA (a new temporary). */
  transform(x: Tensor): Tensor {
    if (!this.w || !this.mean) throw new Error(`${this.name}.transform: not fitted: call fit(trainData) first (or loadStateDict)`);
    const [n, d] = this.rows(x, 'transform');
    if (d !== this.d) throw new Error(`${this.name}.transform: fitted on ${this.d} features, got ${d} in ${shapeStr(x.shape)}`);
    const k = this.nComponents;
    const out = Tensor.empty(this.zca ? x.shape : [n, k], 'float32', true);
    withScratch(8 * d, (p) => {
      f64View(p, d).set(this.mean!);
      wasm().tread_data_whiten_apply(x.ptr, n, d, p, this.w!.ptr, k, out.ptr);
    });
    return out;
  }

  fitTransform(x: Tensor): Tensor {
    return this.fit(x).transform(x);
  }

  apply(x: Tensor): Tensor {
    return this.transform(x);
  }

  /** The float32 whitening matrix W (D × k) as a copy. */
  matrix(): Float32Array {
    if (!this.w) throw new Error(`${this.name}.matrix: not fitted`);
    return f32View(this.w.ptr, this.w.size).slice();
  }

  stateDict(): WhiteningState {
    if (!this.mean) throw new Error(`${this.name}.stateDict: not fitted`);
    return {
      type: this.name,
      eps: this.eps,
      nComponents: this.nComponents,
      mean: Array.from(this.mean),
      eigenvalues: Array.from(this.eigenvalues!),
      components: Array.from(this.components!),
    };
  }

  loadStateDict(sd: WhiteningState): this {
    const d = sd?.mean?.length;
    if (sd?.type !== this.name || !d || sd.eigenvalues?.length !== d || sd.components?.length !== sd.nComponents * d) {
      throw new Error(`${this.name}.loadStateDict: expected { type: "${this.name}", mean: D numbers, eigenvalues: D numbers, components: nComponents·D numbers }`);
    }
    if (sd.eps !== this.eps) throw new Error(`${this.name}.loadStateDict: state has eps ${sd.eps}, this one ${this.eps}`);
    this.mean = Float64Array.from(sd.mean);
    this.eigenvalues = Float64Array.from(sd.eigenvalues);
    this.components = Float64Array.from(sd.components);
    this.nComponents = sd.nComponents;
    this.build(d);
    return this;
  }

  /** Frees W. */
  dispose(): void {
    this.w?.dispose();
    this.w = null;
  }
}

/** PCA whitening: decorrelated, unit-variance components, largest variance first. */
export class PCAWhitening extends Whitening {
  readonly name = 'PCAWhitening' as const;
  protected get zca(): boolean {
    return false;
  }
}

/** ZCA whitening: PCA whitening rotated back, the whitened data closest to the input. */
export class ZCAWhitening extends Whitening {
  readonly name = 'ZCAWhitening' as const;
  constructor(options: { eps?: number } = {}) {
    super(options);
  }
  protected get zca(): boolean {
    return true;
  }
}
