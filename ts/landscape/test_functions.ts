/**
 * Two-dimensional test functions for optimizers, with their gradients in closed form (float64):
 * the classic ones from the optimization literature, an ill-conditioned quadratic, and noisy
 * prototypes after Schaul, Antonoglou & Silver, "Unit Tests for Stochastic Optimization"
 * (ICLR 2014): a quadratic bowl and an absolute-value valley whose gradients carry additive
 * or multiplicative noise, drawn from a seeded generator so that runs repeat.
 */
import { Rng } from '../data/random.js';
import { checkOptions } from '../util/options.js';

export interface TestFunction {
  readonly name: string;
  f(x: number, y: number): number;
  /** The gradient; noisy functions draw their noise from `rng`. */
  grad(x: number, y: number, rng: Rng): [number, number];
  /** A global minimum, where there is one. */
  readonly minimum: readonly [number, number] | null;
  /** The plotting window and a customary start. */
  readonly xRange: readonly [number, number];
  readonly yRange: readonly [number, number];
  readonly start: readonly [number, number];
  /** True when grad() is stochastic. */
  readonly noisy: boolean;
}

const sq = (v: number) => v * v;

export const rosenbrock: TestFunction = {
  name: 'rosenbrock',
  f: (x, y) => sq(1 - x) + 100 * sq(y - x * x),
  grad: (x, y) => [-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)],
  minimum: [1, 1],
  xRange: [-2, 2],
  yRange: [-1, 3],
  start: [-1.5, 2],
  noisy: false,
};

export const beale: TestFunction = {
  name: 'beale',
  f: (x, y) => sq(1.5 - x + x * y) + sq(2.25 - x + x * y * y) + sq(2.625 - x + x * y ** 3),
  grad: (x, y) => {
    const a = 1.5 - x + x * y;
    const b = 2.25 - x + x * y * y;
    const c = 2.625 - x + x * y ** 3;
    return [2 * a * (y - 1) + 2 * b * (y * y - 1) + 2 * c * (y ** 3 - 1), 2 * a * x + 4 * b * x * y + 6 * c * x * y * y];
  },
  minimum: [3, 0.5],
  xRange: [-4.5, 4.5],
  yRange: [-4.5, 4.5],
  start: [1, 1.5],
  noisy: false,
};

export const booth: TestFunction = {
  name: 'booth',
  f: (x, y) => sq(x + 2 * y - 7) + sq(2 * x + y - 5),
  grad: (x, y) => [2 * (x + 2 * y - 7) + 4 * (2 * x + y - 5), 4 * (x + 2 * y - 7) + 2 * (2 * x + y - 5)],
  minimum: [1, 3],
  xRange: [-10, 10],
  yRange: [-10, 10],
  start: [-8, 8],
  noisy: false,
};

/** x² − y²: a saddle at the origin, unbounded below along y. */
export const saddle: TestFunction = {
  name: 'saddle',
  f: (x, y) => x * x - y * y,
  grad: (x, y) => [2 * x, -2 * y],
  minimum: null,
  xRange: [-2, 2],
  yRange: [-2, 2],
  start: [-1.8, 1e-3],
  noisy: false,
};

/** x³ − 3xy²: a monkey saddle (three valleys) at the origin, where the Hessian is zero. */
export const monkeySaddle: TestFunction = {
  name: 'monkey saddle',
  f: (x, y) => x ** 3 - 3 * x * y * y,
  grad: (x, y) => [3 * x * x - 3 * y * y, -6 * x * y],
  minimum: null,
  xRange: [-2, 2],
  yRange: [-2, 2],
  start: [1.2, 0.2],
  noisy: false,
};

/** 20 + Σ (xᵢ² − 10 cos 2πxᵢ): many local minima, the global one at the origin. */
export const rastrigin: TestFunction = {
  name: 'rastrigin',
  f: (x, y) => 20 + x * x - 10 * Math.cos(2 * Math.PI * x) + y * y - 10 * Math.cos(2 * Math.PI * y),
  grad: (x, y) => [2 * x + 20 * Math.PI * Math.sin(2 * Math.PI * x), 2 * y + 20 * Math.PI * Math.sin(2 * Math.PI * y)],
  minimum: [0, 0],
  xRange: [-5.12, 5.12],
  yRange: [-5.12, 5.12],
  start: [3.3, -2.4],
  noisy: false,
};

/**
 * ½ (λ₁u² + λ₂v²) in coordinates (u, v) rotated by `angle` from (x, y): condition number
 * λ₁/λ₂, Hessian eigenvalues λ₁ and λ₂. Gradient descent is stable for lr < 2/λ₁.
 */
export function quadratic(lambdas: readonly [number, number] = [25, 1], angle = Math.PI / 6): TestFunction & { lambdas: readonly [number, number] } {
  const [l1, l2] = lambdas;
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const uv = (x: number, y: number) => [c * x + s * y, -s * x + c * y] as const;
  return {
    name: `quadratic (condition ${+(l1 / l2).toPrecision(3)})`,
    lambdas,
    f: (x, y) => {
      const [u, v] = uv(x, y);
      return 0.5 * (l1 * u * u + l2 * v * v);
    },
    grad: (x, y) => {
      const [u, v] = uv(x, y);
      const gu = l1 * u;
      const gv = l2 * v;
      return [c * gu - s * gv, s * gu + c * gv];
    },
    minimum: [0, 0],
    xRange: [-2, 2],
    yRange: [-2, 2],
    start: [-1.5, 1.2],
    noisy: false,
  };
}

export interface NoiseOptions {
  /** 'additive' (default): g + σξ; 'multiplicative': g·(1 + σξ), ξ ~ N(0, 1) per coordinate. */
  kind?: 'additive' | 'multiplicative';
  /** σ (default 1). */
  scale?: number;
}

const NOISE_KEYS = ['kind', 'scale'];

function noisy(base: TestFunction, name: string, { kind = 'additive', scale = 1 }: NoiseOptions): TestFunction {
  return {
    ...base,
    name,
    noisy: true,
    grad: (x, y, rng) => {
      const [gx, gy] = base.grad(x, y, rng);
      const nx = rng.normal();
      const ny = rng.normal();
      return kind === 'additive' ? [gx + scale * nx, gy + scale * ny] : [gx * (1 + scale * nx), gy * (1 + scale * ny)];
    },
  };
}

/** Schaul et al.'s quadratic prototype (½(x² + y²)) with noisy gradients. */
export function noisyQuadratic(options: NoiseOptions = {}): TestFunction {
  checkOptions('landscape.noisyQuadratic', options, NOISE_KEYS);
  options ??= {};
  return noisy(quadratic([1, 1], 0), `noisy quadratic (${options.kind ?? 'additive'}, σ=${options.scale ?? 1})`, options);
}

/** Schaul et al.'s absolute-value prototype (|x| + |y|, non-smooth at the minimum) with noisy gradients. */
export function noisyAbs(options: NoiseOptions = {}): TestFunction {
  checkOptions('landscape.noisyAbs', options, NOISE_KEYS);
  options ??= {};
  const abs: TestFunction = {
    name: 'abs',
    f: (x, y) => Math.abs(x) + Math.abs(y),
    grad: (x, y) => [Math.sign(x), Math.sign(y)],
    minimum: [0, 0],
    xRange: [-2, 2],
    yRange: [-2, 2],
    start: [-1.5, 1.2],
    noisy: false,
  };
  return noisy(abs, `noisy abs (${options.kind ?? 'additive'}, σ=${options.scale ?? 1})`, options);
}

/** The functions `tread optimizers` draws, in order. */
export function standardTestFunctions(): TestFunction[] {
  return [quadratic(), rosenbrock, beale, booth, saddle, monkeySaddle, rastrigin, noisyQuadratic({ scale: 0.5 }), noisyAbs({ scale: 0.5 })];
}
