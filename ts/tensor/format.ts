/**
 * `String(t)`, `console.log(t)` and Node's `util.inspect(t)` as PyTorch 1.13 prints a tensor
 * (torch/_tensor_str.py with its default print options: precision 4, threshold 1000,
 * edgeitems 3, linewidth 80):
 *
 *   tensor([[ 0.1000, -2.0000],
 *           [ 3.0000,  4.5000]], requires_grad=True)
 *
 * Floats print with 4 decimals, as integers with a trailing '.' when all are integral, or in
 * scientific notation when the magnitudes span more than 1000x (or pass 1e8, or go below
 * 1e-4). Beyond 1000 elements only the first and last 3 of each dimension print, with '...'.
 * tread's int32 prints `dtype=torch.int32` (PyTorch's default integer type is int64), and
 * `grad_fn=<name>` carries tread's op name.
 */
import type { Tensor } from './tensor.js';

const PRECISION = 4;
const THRESHOLD = 1000;
const EDGE = 3;
const LINEWIDTH = 80;

/** Python's '{:.Nf}' (round half to even on the exact binary value, nan/inf spelled as Python). */
function fixed(v: number, digits: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  let s = v.toFixed(digits);
  // toFixed rounds exact ties away from zero; Python rounds them to even.
  const scaled = Math.abs(v) * 10 ** digits;
  if (Number.isFinite(scaled) && scaled < 2 ** 52 && scaled - Math.floor(scaled) === 0.5 && Math.floor(scaled) % 2 === 0) {
    const down = (Math.floor(scaled) / 10 ** digits) * Math.sign(v);
    s = down.toFixed(digits);
    if (v < 0 && !s.startsWith('-')) s = `-${s}`;
  }
  if (Object.is(v, -0) || (v < 0 && /^0\.?0*$/.test(s))) s = s.startsWith('-') ? s : `-${s}`;
  return s;
}

/** Python's '{:.Ne}': two exponent digits at least ('1.0000e+00'). */
function sci(v: number, digits: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  const s = v.toExponential(digits);
  const [m, e] = s.split('e');
  const sign = e[0] === '-' ? '-' : '+';
  const digitsE = e.replace(/^[+-]/, '');
  return `${Object.is(v, -0) && !m.startsWith('-') ? '-' : ''}${m}e${sign}${digitsE.padStart(2, '0')}`;
}

/** PyTorch's _Formatter: one width and one style for every element of the tensor. */
class Formatter {
  private intMode = true;
  private sciMode = false;
  private maxWidth = 1;

  constructor(private readonly floating: boolean, values: ArrayLike<number>) {
    if (!floating) {
      for (let i = 0; i < values.length; i++) this.maxWidth = Math.max(this.maxWidth, String(values[i]).length);
      return;
    }
    const vals: number[] = [];
    for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i]) && values[i] !== 0) vals.push(values[i]);
    if (vals.length === 0) return;
    let lo = Infinity;
    let hi = 0;
    for (const v of vals) {
      lo = Math.min(lo, Math.abs(v));
      hi = Math.max(hi, Math.abs(v));
    }
    this.intMode = vals.every((v) => v === Math.ceil(v));
    if (this.intMode) {
      if (hi / lo > 1000 || hi > 1e8) {
        this.sciMode = true;
        for (const v of vals) this.maxWidth = Math.max(this.maxWidth, sci(v, PRECISION).length);
      } else {
        for (const v of vals) this.maxWidth = Math.max(this.maxWidth, fixed(v, 0).length + 1);
      }
    } else if (hi / lo > 1000 || hi > 1e8 || lo < 1e-4) {
      this.sciMode = true;
      for (const v of vals) this.maxWidth = Math.max(this.maxWidth, sci(v, PRECISION).length);
    } else {
      for (const v of vals) this.maxWidth = Math.max(this.maxWidth, fixed(v, PRECISION).length);
    }
  }

  get width(): number {
    return this.maxWidth;
  }

  format(v: number): string {
    let s: string;
    if (!this.floating) s = String(v);
    else if (this.sciMode) s = sci(v, PRECISION);
    else if (this.intMode) s = fixed(v, 0) + (Number.isFinite(v) ? '.' : '');
    else s = fixed(v, PRECISION);
    return s.padStart(this.maxWidth, ' ');
  }
}

/** A nested view for printing: shape and a flat row-major array from an offset. */
interface Block {
  shape: readonly number[];
  data: ArrayLike<number>;
  offset: number;
}

function sub(b: Block, i: number): Block {
  let inner = 1;
  for (let d = 1; d < b.shape.length; d++) inner *= b.shape[d];
  return { shape: b.shape.slice(1), data: b.data, offset: b.offset + i * inner };
}

/** The elements that will be printed (PyTorch's get_summarized_data), for the formatter. */
function summarized(b: Block, summarize: boolean, into: number[]): void {
  if (b.shape.length === 0) {
    into.push(b.data[b.offset]);
    return;
  }
  const n = b.shape[0];
  const rows = summarize && n > 2 * EDGE ? [...range(0, EDGE), ...range(n - EDGE, n)] : range(0, n);
  if (b.shape.length === 1) for (const i of rows) into.push(b.data[b.offset + i]);
  else for (const i of rows) summarized(sub(b, i), summarize, into);
}

function range(a: number, b: number): number[] {
  return Array.from({ length: Math.max(0, b - a) }, (_, i) => a + i);
}

function vectorStr(b: Block, indent: number, summarize: boolean, f: Formatter): string {
  const elementLength = f.width + 2;
  const perLine = Math.max(1, Math.floor((LINEWIDTH - indent) / elementLength));
  const n = b.shape[0];
  const at = (i: number) => f.format(b.data[b.offset + i]);
  const data = summarize && n > 2 * EDGE ? [...range(0, EDGE).map(at), ' ...', ...range(n - EDGE, n).map(at)] : range(0, n).map(at);
  const lines: string[] = [];
  for (let i = 0; i < data.length; i += perLine) lines.push(data.slice(i, i + perLine).join(', '));
  return `[${lines.join(`,\n${' '.repeat(indent + 1)}`)}]`;
}

function tensorStr(b: Block, indent: number, summarize: boolean, f: Formatter): string {
  const dim = b.shape.length;
  if (dim === 0) return f.format(b.data[b.offset]).trimStart();
  if (dim === 1) return vectorStr(b, indent, summarize, f);
  const n = b.shape[0];
  const part = (i: number) => tensorStr(sub(b, i), indent + 1, summarize, f);
  const slices = summarize && n > 2 * EDGE ? [...range(0, EDGE).map(part), '...', ...range(n - EDGE, n).map(part)] : range(0, n).map(part);
  return `[${slices.join(`,${'\n'.repeat(dim - 1)}${' '.repeat(indent + 1)}`)}]`;
}

/** PyTorch's _add_suffixes: `, suffix` on the last line, or a new line past the line width. */
function addSuffixes(body: string, suffixes: string[], indent: number): string {
  const parts = [body];
  let lastLineLen = body.length - body.lastIndexOf('\n') + 1;
  for (const s of suffixes) {
    if (lastLineLen + s.length + 2 > LINEWIDTH) {
      parts.push(`,\n${' '.repeat(indent)}${s}`);
      lastLineLen = indent + s.length;
    } else {
      parts.push(`, ${s}`);
      lastLineLen += s.length + 2;
    }
  }
  parts.push(')');
  return parts.join('');
}

/** The text PyTorch's `repr(tensor)` gives for these values. */
export function formatTensor(t: Tensor): string {
  const prefix = 'tensor(';
  const indent = prefix.length;
  const suffixes: string[] = [];
  let body: string;
  if (t.size === 0) {
    body = '[]';
    if (t.ndim !== 1) suffixes.push(`size=(${t.shape.join(', ')}${t.ndim === 1 ? ',' : ''})`);
  } else {
    const summarize = t.size > THRESHOLD;
    const block: Block = { shape: t.shape, data: t.data, offset: 0 };
    const shown: number[] = [];
    summarized(block, summarize, shown);
    body = tensorStr(block, indent, summarize, new Formatter(t.dtype === 'float32', shown));
  }
  if (t.dtype === 'int32') suffixes.push('dtype=torch.int32');
  if (t.gradFn !== null) suffixes.push(`grad_fn=<${t.gradFn.name}>`);
  else if (t.requiresGrad) suffixes.push('requires_grad=True');
  return addSuffixes(prefix + body, suffixes, indent);
}
