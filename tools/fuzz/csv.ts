/**
 * Fuzz target: numeric CSV (parseCsv + csvToDataset with an int32 label column, a float32
 * target, and no target). Cases: valid tables, fields replaced with values that change
 * meaning (labels 4294967297, 2147483648, 1e10, -1, 1.5; features 1e39, 1e400; hex, quotes,
 * empty), a pandas header of column numbers, ragged rows, other delimiters, CRLF, byte damage
 * and invalid UTF-8. A loaded dataset must hold exactly the table's values: labels integers
 * in 0..2^31-1 equal to the text, features equal to their float32 rounding and finite when
 * the text was.
 */
import { csvToDataset, parseCsv } from '../../ts/data/csv.js';
import type { TensorDataset } from '../../ts/data/dataset.js';
import { ContractViolation, type FuzzTarget } from './harness.js';
import { mutateBytes } from './mutate.js';
import type { FuzzRandom } from './random.js';

const ODD = ['4294967297', '2147483648', '2147483647', '1e10', '-1', '1.5', '1e39', '-1e39', '3.4028234e38', '3.5e38', '1e400', '-1e400', '1e-50',
  'nan', 'inf', '-inf', 'Infinity', '0x10', '', ' ', '"3"', '"', 'abc', '1e', '--1', '+1', '.5', '5.', '1_0', '０'];

function table(rng: FuzzRandom): string[][] {
  const cols = 2 + rng.int(5);
  const rows = 1 + rng.int(12);
  return Array.from({ length: rows }, () =>
    Array.from({ length: cols }, (_, c) => (c === cols - 1 ? String(rng.int(10)) : (rng.next() * 20 - 10).toFixed(rng.int(5)))));
}

const encoder = new TextEncoder();
const decoder = new TextDecoder(); // not fatal, as readCsv reads 'utf8'

function dispose(ds: TensorDataset): void {
  for (const t of ds.tensors) t.dispose();
}

export const csvTarget: FuzzTarget = {
  name: 'csv',
  async prepare() {},
  generate(rng) {
    const rows = table(rng);
    const cols = rows[0].length;
    for (let k = rng.int(4); k > 0; k--) rows[rng.int(rows.length)][rng.int(cols)] = rng.pick(ODD);
    const delim = rng.chance(0.9) ? ',' : rng.pick([';', '\t', ' ']);
    const lines = rows.map((r) => r.join(delim));
    if (rng.chance(0.5)) lines.unshift(rng.chance(0.5) ? Array.from({ length: cols }, (_, i) => `c${i}`).join(delim) : Array.from({ length: cols }, (_, i) => String(i)).join(delim));
    if (rng.chance(0.15)) lines.splice(rng.int(lines.length), 0, '');
    if (rng.chance(0.15)) lines[rng.int(lines.length)] += `${delim}1`;
    const text = lines.join(rng.chance(0.8) ? '\n' : '\r\n');
    let bytes: Uint8Array = encoder.encode(text);
    if (rng.chance(0.3)) bytes = mutateBytes(rng, bytes);
    if (rng.chance(0.1)) {
      bytes = bytes.slice();
      if (bytes.length > 0) bytes[rng.int(bytes.length)] = rng.pick([0xff, 0xc3, 0xed, 0x80]);
    }
    return bytes;
  },
  async run(input) {
    const text = decoder.decode(input);
    const t = parseCsv(text, { name: 'fuzz.csv' });
    // Every value of the table must also be in it as the text said (no silent Infinity from a finite literal).
    const x = csvToDataset(t, { name: 'fuzz.csv' });
    try {
      const f = x.tensors[0].data;
      for (let i = 0; i < t.data.length; i++) {
        const v = t.data[i];
        if (!Object.is(f[i], Math.fround(v)) || (Number.isFinite(v) && !Number.isFinite(f[i]))) throw new ContractViolation(`feature ${i}: ${v} became ${f[i]}`);
      }
    } finally {
      dispose(x);
    }
    if (t.cols < 2) return;
    const labelled = csvToDataset(t, { name: 'fuzz.csv', target: 'last' });
    try {
      const y = labelled.tensors[1].data;
      for (let r = 0; r < t.rows; r++) {
        const v = t.data[r * t.cols + t.cols - 1];
        if (y[r] !== v || !(v >= 0 && v <= 2147483647)) throw new ContractViolation(`label of row ${r}: ${v} became ${y[r]}`);
      }
    } finally {
      dispose(labelled);
    }
  },
};
