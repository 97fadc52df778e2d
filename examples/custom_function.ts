// A custom op with its own backward, as PyTorch's torch.autograd.Function.
// `npx tsx examples/custom_function.ts`; test/custom-function.test.ts runs it.
import * as tread from '../ts/index.js'; // in your project: import * as tread from 'tread';
import type { Tensor } from '../ts/index.js';

type FunctionCtx = tread.autograd.FunctionCtx;

await tread.init();

// 1. PyTorch's tutorial example: the Legendre polynomial P3(x) = (5x³ - 3x) / 2, with its
//    derivative written by hand. forward runs without recording a graph; backward gets the
//    output's gradient and returns the input's.
class LegendreP3 extends tread.autograd.Function {
  static forward(ctx: FunctionCtx, x: Tensor): Tensor {
    ctx.saveForBackward(x);
    return x.pow(3).mul(5).sub(x.mul(3)).mul(0.5);
  }
  static backward(ctx: FunctionCtx, grad: Tensor): Tensor {
    const [x] = ctx.savedTensors;
    return grad.mul(x.square().mul(5).sub(1).mul(1.5)); // dP3/dx = 1.5 (5x² - 1)
  }
}

const x = tread.tensor([-1, -0.5, 0, 0.5, 1], { requiresGrad: true });
const y = LegendreP3.apply(x);
y.sum().backward();
console.log(`P3(x)  = ${[...y.data].join(', ')}`); // -1, 0.4375, 0, -0.4375, 1
console.log(`P3'(x) = ${[...x.grad!.data].join(', ')}`); // 6, 0.375, -1.5, 0.375, 6

// 2. What autograd cannot derive: rounding with a straight-through gradient (quantization-aware
//    training). forward may compute in plain JS; backward passes the gradient through unchanged.
class RoundStraightThrough extends tread.autograd.Function {
  static forward(_ctx: FunctionCtx, x: Tensor): Tensor {
    const y = x.clone();
    const d = y.f32;
    for (let i = 0; i < d.length; i++) d[i] = Math.round(d[i]);
    return y;
  }
  static backward(_ctx: FunctionCtx, grad: Tensor): Tensor {
    return grad;
  }
}

// 3. Several inputs and a plain number: one gradient per argument of forward, null for the number.
class ScaledProduct extends tread.autograd.Function {
  static forward(ctx: FunctionCtx, a: Tensor, b: Tensor, scale: number): Tensor {
    ctx.saveForBackward(a, b);
    ctx.scale = scale; // other values go on ctx, as in PyTorch
    return a.mul(b).mul(scale);
  }
  static backward(ctx: FunctionCtx, grad: Tensor): (Tensor | null)[] {
    const [a, b] = ctx.savedTensors;
    const s = ctx.scale as number;
    return [ctx.needsInputGrad[0] ? grad.mul(b).mul(s) : null, ctx.needsInputGrad[1] ? grad.mul(a).mul(s) : null, null];
  }
}

const w = tread.tensor([0.26, 1.74, -0.5], { requiresGrad: true });
const b = tread.tensor([2, 3, 4], { requiresGrad: true });
const q = ScaledProduct.apply(RoundStraightThrough.apply(w), b, 10);
q.sum().backward();
console.log(`round(w) * b * 10 = ${[...q.data].join(', ')}`); // 0, 60, 0
console.log(`dw = ${[...w.grad!.data].join(', ')}; db = ${[...b.grad!.data].join(', ')}`); // dw = 20, 30, 40; db = 0, 20, 0
