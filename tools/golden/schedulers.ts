/**
 * schedulers.json: every case builds the scheduler named by `scheduler` from PyTorch-named
 * `options` (snake_case, mapped to tread's camelCase) on an SGD-like optimizer with one
 * param group (`lr = base_lr`, `momentum = base_momentum_sgd` or 0, as SGD has), then for
 * each epoch e reads the rate in force (`lrs[e]`) and, where given, the momentum
 * (`momentums[e]`), and steps: `step()`, or `step(metrics[e])` for ReduceLROnPlateau.
 *
 * LambdaLR / MultiplicativeLR carry their lambda as a Python `formula` string
 * (`lr_lambda(epoch) = 0.65 ** floor(epoch / 10)`), which is parsed here into a JS function
 * (arithmetic, `**`, `//`, `%`, comparisons, `a if c else b`, math functions); nothing is
 * evaluated as code. SequentialLR / ChainedScheduler list their children as
 * `[name, options]` pairs, built on the same optimizer in order.
 *
 * Tolerance: relative 1e-6 (absolute 1e-12 × base rate near zero).
 */
import * as S from '../../ts/optim/lr_scheduler/index.js';
import type { SchedulerOptimizer } from '../../ts/optim/lr_scheduler/base.js';
import { compareArrays, describeMismatch, type CaseResult } from './types.js';

const RTOL = 1e-6;

// ---- a small Python-expression parser for `formula` ----

type Fn = (env: Record<string, number>) => number;

const FUNCS: Record<string, (...a: number[]) => number> = {
  floor: Math.floor,
  ceil: Math.ceil,
  exp: Math.exp,
  log: (x, b) => (b === undefined ? Math.log(x) : Math.log(x) / Math.log(b)),
  log2: Math.log2,
  log10: Math.log10,
  sqrt: Math.sqrt,
  cos: Math.cos,
  sin: Math.sin,
  tan: Math.tan,
  tanh: Math.tanh,
  abs: Math.abs,
  min: Math.min,
  max: Math.max,
  pow: Math.pow,
  int: Math.trunc,
  float: (x) => x,
  round: (x) => {
    // Python rounds half to even.
    const r = Math.round(x);
    return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
  },
};
const CONSTS: Record<string, number> = { pi: Math.PI, e: Math.E, inf: Infinity, True: 1, False: 0 };

function tokenize(src: string): string[] {
  const re = /\s*(\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|[A-Za-z_][A-Za-z_0-9.]*|\*\*|\/\/|[<>=!]=|[-+*/%(),<>])/y;
  const out: string[] = [];
  let i = 0;
  while (i < src.length) {
    if (/^\s*$/.test(src.slice(i))) break;
    re.lastIndex = i;
    const m = re.exec(src);
    if (!m) throw new Error(`formula: cannot read '${src.slice(i)}'`);
    out.push(m[1]);
    i = re.lastIndex;
  }
  return out;
}

/** Parses a Python expression in the variables `vars` into a function. */
export function parseExpression(src: string): Fn {
  const t = tokenize(src);
  let p = 0;
  const peek = () => t[p];
  const eat = (s?: string) => {
    const x = t[p++];
    if (s !== undefined && x !== s) throw new Error(`formula: expected '${s}' but found '${x ?? 'end'}' in ${src}`);
    return x;
  };
  // ternary: or_expr ['if' or_expr 'else' ternary]
  function ternary(): Fn {
    const a = orExpr();
    if (peek() === 'if') {
      eat();
      const c = orExpr();
      eat('else');
      const b = ternary();
      return (env) => (c(env) ? a(env) : b(env));
    }
    return a;
  }
  function orExpr(): Fn {
    let a = andExpr();
    while (peek() === 'or') {
      eat();
      const l = a;
      const r = andExpr();
      a = (env) => l(env) || r(env);
    }
    return a;
  }
  function andExpr(): Fn {
    let a = notExpr();
    while (peek() === 'and') {
      eat();
      const l = a;
      const r = notExpr();
      a = (env) => l(env) && r(env);
    }
    return a;
  }
  function notExpr(): Fn {
    if (peek() === 'not') {
      eat();
      const a = notExpr();
      return (env) => (a(env) ? 0 : 1);
    }
    return comparison();
  }
  function comparison(): Fn {
    let a = sum();
    const ops = ['<', '>', '<=', '>=', '==', '!='];
    while (ops.includes(peek())) {
      const op = eat();
      const l = a;
      const r = sum();
      a = (env) => {
        const x = l(env);
        const y = r(env);
        return +(op === '<' ? x < y : op === '>' ? x > y : op === '<=' ? x <= y : op === '>=' ? x >= y : op === '==' ? x === y : x !== y);
      };
    }
    return a;
  }
  function sum(): Fn {
    let a = product();
    while (peek() === '+' || peek() === '-') {
      const op = eat();
      const l = a;
      const r = product();
      a = op === '+' ? (env) => l(env) + r(env) : (env) => l(env) - r(env);
    }
    return a;
  }
  function product(): Fn {
    let a = unary();
    while (['*', '/', '//', '%'].includes(peek())) {
      const op = eat();
      const l = a;
      const r = unary();
      if (op === '*') a = (env) => l(env) * r(env);
      else if (op === '/') a = (env) => l(env) / r(env);
      else if (op === '//') a = (env) => Math.floor(l(env) / r(env));
      else a = (env) => {
        const y = r(env);
        return ((l(env) % y) + y) % y;
      };
    }
    return a;
  }
  function unary(): Fn {
    if (peek() === '-') {
      eat();
      const a = unary();
      return (env) => -a(env);
    }
    if (peek() === '+') {
      eat();
      return unary();
    }
    return power();
  }
  function power(): Fn {
    const base = atom();
    if (peek() === '**') {
      eat();
      const ex = unary(); // right-associative, binds tighter than unary minus on its left
      return (env) => base(env) ** ex(env);
    }
    return base;
  }
  function atom(): Fn {
    const x = eat();
    if (x === undefined) throw new Error(`formula: unexpected end of ${src}`);
    if (x === '(') {
      const a = ternary();
      eat(')');
      return a;
    }
    if (/^[\d.]/.test(x)) {
      const v = Number(x);
      return () => v;
    }
    if (/^[A-Za-z_]/.test(x)) {
      const name = x.replace(/^(math|np|numpy|torch)\./, '');
      if (peek() === '(') {
        eat('(');
        const args: Fn[] = [];
        if (peek() !== ')') {
          args.push(ternary());
          while (peek() === ',') {
            eat();
            args.push(ternary());
          }
        }
        eat(')');
        const f = FUNCS[name];
        if (!f) throw new Error(`formula: unknown function '${x}' in ${src}`);
        return (env) => f(...args.map((a) => a(env)));
      }
      return (env) => {
        if (name in env) return env[name];
        if (name in CONSTS) return CONSTS[name];
        throw new Error(`formula: unknown name '${x}' in ${src}`);
      };
    }
    throw new Error(`formula: unexpected '${x}' in ${src}`);
  }
  const f = ternary();
  if (p !== t.length) throw new Error(`formula: unexpected '${t[p]}' in ${src}`);
  return f;
}

/**
 * `lr_lambda(epoch) = <expr>`, `lambda epoch: <expr>` or a bare expression in `epoch`
 * -> (epoch) => number.
 */
export function parseFormula(formula: string): (epoch: number) => number {
  let variable = 'epoch';
  let body = formula.trim();
  let m = /^\s*\w+\s*\(\s*(\w+)\s*\)\s*=(?!=)(.*)$/s.exec(body);
  if (m) [variable, body] = [m[1], m[2]];
  else if ((m = /^\s*lambda\s+(\w+)\s*:(.*)$/s.exec(body))) [variable, body] = [m[1], m[2]];
  const f = parseExpression(body);
  return (epoch: number) => f({ [variable]: epoch });
}

// ---- building schedulers from PyTorch-named options ----

/** snake_case -> camelCase, PyTorch's capital T included: T_max -> tMax, T_mult -> tMult, T_0 -> t0. */
export function camelKey(k: string): string {
  const parts = k.split('_').filter((s) => s !== '');
  return parts.map((s, i) => (i === 0 ? s.toLowerCase() : s[0].toUpperCase() + s.slice(1))).join('');
}

const SKIP = new Set(['verbose']);

export function buildScheduler(name: string, options: Record<string, any>, optimizer: SchedulerOptimizer, formula?: string): any {
  const o: Record<string, any> = {};
  for (const [k, v] of Object.entries(options ?? {})) if (!SKIP.has(k)) o[camelKey(k)] = v;
  const Ctor = (S as Record<string, any>)[name];
  switch (name) {
    case 'LambdaLR':
    case 'MultiplicativeLR': {
      const src = formula ?? o.lrLambda;
      if (typeof src !== 'string') throw new Error(`${name}: the case has no formula`);
      return new Ctor(optimizer, { ...o, lrLambda: parseFormula(src) });
    }
    case 'SequentialLR':
    case 'ChainedScheduler': {
      const children = (o.schedulers as [string, Record<string, any>][]).map((c) => {
        const [childName, childOpts, childFormula] = Array.isArray(c) ? c : [(c as any).scheduler, (c as any).options, (c as any).formula];
        return buildScheduler(childName, childOpts ?? {}, optimizer, childFormula);
      });
      if (name === 'ChainedScheduler') return new S.ChainedScheduler(children);
      return new S.SequentialLR(optimizer, { ...o, schedulers: children } as S.SequentialLROptions);
    }
    case 'ReduceLROnPlateau':
      return new S.ReduceLROnPlateau(optimizer, o);
    default:
      if (typeof Ctor !== 'function' || name === 'LRScheduler') throw new Error(`unknown scheduler '${name}'`);
      return new Ctor(optimizer, o);
  }
}

/** The optimizer a case runs on: SGD-like, `momentum` always present (0 unless given). */
export function caseOptimizer(c: any): SchedulerOptimizer {
  const lrs: number[] = Array.isArray(c.base_lr) ? c.base_lr : [c.base_lr];
  const ms: number[] = Array.isArray(c.base_momentum_sgd) ? c.base_momentum_sgd : lrs.map(() => c.base_momentum_sgd ?? 0);
  return {
    paramGroups: lrs.map((lr, i) => ({ lr, momentum: ms[i] ?? 0 })),
    defaults: { lr: lrs[0], momentum: ms[0] ?? 0 },
  };
}

/** Runs a case: the rates (and momentums) in force at each epoch, flattened per group. */
export function replay(c: any, sched?: any, optimizer?: SchedulerOptimizer, from = 0): { lrs: number[]; momentums: number[] } {
  const opt = optimizer ?? caseOptimizer(c);
  const s = sched ?? buildScheduler(c.scheduler, c.options, opt, c.formula);
  const lrs: number[] = [];
  const momentums: number[] = [];
  for (let e = from; e < c.epochs; e++) {
    for (const g of opt.paramGroups) {
      lrs.push(g.lr);
      momentums.push(g.momentum ?? NaN);
    }
    if (c.scheduler === 'ReduceLROnPlateau') s.step(c.metrics[e]);
    else s.step();
  }
  return { lrs, momentums };
}

export function check(fixture: any): CaseResult[] {
  const cases: any[] = fixture.cases ?? fixture;
  const counts = new Map<string, number>();
  return cases.map((c, i) => {
    const k = (counts.get(c.scheduler) ?? 0) + 1;
    counts.set(c.scheduler, k);
    const name = `schedulers.json #${i} ${c.scheduler}${k > 1 ? ` (${k})` : ''}`;
    try {
      const { lrs, momentums } = replay(c);
      const want = (c.lrs as any[]).flat();
      const base = Math.max(...(Array.isArray(c.base_lr) ? c.base_lr : [c.base_lr]).map(Math.abs), 1e-30);
      const r = compareArrays(lrs, want, RTOL, 1e-12 * base);
      if (!r.ok) return { name, ok: false, detail: describeMismatch('lr', r) };
      if (c.momentums) {
        const rm = compareArrays(momentums, (c.momentums as any[]).flat(), RTOL, 1e-12);
        if (!rm.ok) return { name, ok: false, detail: describeMismatch('momentum', rm) };
      }
      return { name, ok: true };
    } catch (e) {
      return { name, ok: false, detail: (e as Error).message };
    }
  });
}
