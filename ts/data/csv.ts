/**
 * Numeric CSV: every field a number (`1`, `-2.5e3`, `NaN`, `inf`), an optional header line,
 * one sample per line. Blank lines are skipped; CRLF is fine; fields may be quoted.
 *
 * The header (option `header`, default 'auto'): a first line with no number in it is a header;
 * one with numbers is data, except a first line that is exactly the column numbers `0,1,2,...`
 * (what pandas writes for unnamed columns): that could be either, so it is an error that asks
 * for `header: true` or `header: false`.
 *
 * Range: a literal beyond double range (`1e400`) is refused, as are, when the table becomes a
 * dataset, finite features beyond float32 range and class labels that are not integers in
 * 0..2^31-1 (a label never wraps: 4294967297 is not read as 1).
 *
 * Errors name the file, the line (1-based) and column, and what was expected: a ragged row
 * ("expected 5 fields as in line 2, got 4") or a field that is not a number. Nothing is
 * returned half-parsed.
 */
import { TensorDataset } from './dataset.js';
import { tensor } from '../tensor/create.js';
import { DataFormatError, nodeFs } from './util.js';
import { checkOptions } from '../util/options.js';

export interface CsvOptions {
  /** Field separator (default ','). */
  delimiter?: string;
  /** true: the first line names the columns; false: it is data; 'auto' (default): a header when none of its fields is a number. */
  header?: boolean | 'auto';
  /** Name for messages (readCsv uses the path). */
  name?: string;
}


export interface CsvTable {
  columns: string[] | null;
  rows: number;
  cols: number;
  /** Row-major values. */
  data: Float64Array;
  /** The 1-based line of the file each row came from (for messages). */
  lines: Uint32Array;
}

const CSV_OPTIONS = ['delimiter', 'header', 'name'] as const;
const DATASET_OPTIONS = [...CSV_OPTIONS, 'target', 'targetDtype'] as const;
/** Largest finite float32. */
const F32_MAX = 3.4028234663852886e38;

function checkCsvOptions(owner: string, options: CsvOptions, known: readonly string[]): void {
  checkOptions(owner, options, known);
  if (options.delimiter !== undefined && (typeof options.delimiter !== 'string' || options.delimiter.length === 0 || /[\r\n"]/.test(options.delimiter))) {
    throw new Error(`${owner}: delimiter must be a non-empty string without quotes or line breaks, got ${JSON.stringify(options.delimiter)}`);
  }
  if (options.header !== undefined && options.header !== true && options.header !== false && options.header !== 'auto') {
    throw new Error(`${owner}: header must be true, false or 'auto', got ${JSON.stringify(options.header)}`);
  }
}

/** `0,1,2,...`: column numbers, as pandas writes for unnamed columns (`df.to_csv(index=False)`). */
function looksLikeColumnNumbers(fields: string[], numeric: (number | null)[]): boolean {
  if (fields.length < 2) return false;
  return numeric.every((v, i) => v === i && /^\s*"?\s*\d+\s*"?\s*$/.test(fields[i]));
}

function parseNumber(field: string): number | null {
  let s = field.trim();
  if (s.length >= 2 && s[0] === '"' && s[s.length - 1] === '"') s = s.slice(1, -1).trim();
  if (s === '') return null;
  const lower = s.toLowerCase();
  if (lower === 'nan') return NaN;
  if (lower === 'inf' || lower === '+inf' || lower === 'infinity' || lower === '+infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  const v = Number(s);
  // Number() accepts '0x1f', '  ', '1_0'? (no), '.5' (fine); reject hex/binary/octal forms.
  if (Number.isNaN(v) || /^[+-]?0[xob]/i.test(s)) return null;
  return v;
}

function show(field: string): string {
  const f = field.length > 40 ? `${field.slice(0, 40)}...` : field;
  return f.trim() === '' ? 'an empty field' : `"${f}"`;
}

/** Parses numeric CSV text. */
export function parseCsv(text: string, options: CsvOptions = {}): CsvTable {
  checkCsvOptions('parseCsv', options, CSV_OPTIONS);
  const name = options.name ?? '<csv>';
  const delim = options.delimiter ?? ',';
  const lines = text.split(/\r?\n/);
  let columns: string[] | null = null;
  let cols = -1;
  let firstLine = 0;
  const values: number[] = [];
  const rowLines: number[] = [];
  let rows = 0;
  let sawFirst = false;
  for (let li = 0; li < lines.length; li++) {
    const line = lines[li];
    if (line.trim() === '') continue;
    const fields = line.split(delim);
    if (!sawFirst) {
      sawFirst = true;
      const numeric = fields.map(parseNumber);
      const isHeader = options.header === true || (options.header !== false && numeric.every((v) => v === null));
      if ((options.header ?? 'auto') === 'auto' && looksLikeColumnNumbers(fields, numeric)) {
        throw new DataFormatError(name, { line: li + 1 },
          `the first line (${show(line)}) is the column numbers that pandas writes as a header, or a row of data: say which with { header: true } or { header: false }`);
      }
      cols = fields.length;
      firstLine = li + 1;
      if (isHeader) {
        columns = fields.map((f) => f.trim().replace(/^"(.*)"$/, '$1'));
        continue;
      }
    }
    if (fields.length !== cols) {
      throw new DataFormatError(name, { line: li + 1 }, `expected ${cols} fields (as in line ${firstLine}), got ${fields.length}`);
    }
    for (let c = 0; c < fields.length; c++) {
      const v = parseNumber(fields[c]);
      if (v === null) {
        const hint = li + 1 === firstLine && options.header === undefined ? ' (if this line names the columns, pass { header: true })' : '';
        throw new DataFormatError(name, { line: li + 1, column: c + 1 }, `expected a number${columns ? ` for column '${columns[c]}'` : ''}, got ${show(fields[c])}${hint}`);
      }
      if (v === Infinity || v === -Infinity) {
        if (!/inf/i.test(fields[c])) throw new DataFormatError(name, { line: li + 1, column: c + 1 }, `${show(fields[c])} is beyond the range of a double (write inf if infinity is meant)`);
      }
      values.push(v);
    }
    rowLines.push(li + 1);
    rows++;
  }
  if (cols < 0) throw new DataFormatError(name, { line: 1 }, 'expected a header or a row of numbers, the file is empty');
  if (rows === 0) throw new DataFormatError(name, { line: firstLine + 1 }, 'expected rows of numbers after the header, the file ends');
  return { columns, rows, cols, data: Float64Array.from(values), lines: Uint32Array.from(rowLines) };
}

/** Reads a numeric CSV file. Node only. */
export async function readCsv(path: string, options: CsvOptions = {}): Promise<CsvTable> {
  checkCsvOptions('readCsv', options, CSV_OPTIONS);
  const fs = await nodeFs('readCsv');
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`readCsv: cannot read ${path}: ${(e as Error).message}`);
  }
  return parseCsv(text, { ...options, name: options.name ?? path });
}

export interface CsvDatasetOptions extends CsvOptions {
  /** The target column: an index (negative counts from the end), a header name, or 'last'. Omit for inputs only. */
  target?: number | string | 'last';
  /** 'int32' (class labels, default) or 'float32' (regression). */
  targetDtype?: 'int32' | 'float32';
}

/** A TensorDataset from a CSV table: inputs float32 [n, cols-1] and the target column. */
export function csvToDataset(table: CsvTable, options: CsvDatasetOptions = {}): TensorDataset {
  checkCsvOptions('csvToDataset', options, DATASET_OPTIONS);
  if (options.targetDtype !== undefined && options.targetDtype !== 'int32' && options.targetDtype !== 'float32') {
    throw new Error(`csvToDataset: targetDtype must be 'int32' or 'float32', got ${JSON.stringify(options.targetDtype)}`);
  }
  const name = options.name ?? '<csv>';
  const { rows, cols, data } = table;
  // A finite value that float32 cannot hold would silently become Infinity.
  const toF32 = (v: number, r: number, c: number): number => {
    if (Number.isFinite(v) && Math.abs(v) > F32_MAX && !Number.isFinite(Math.fround(v))) {
      throw new DataFormatError(name, { line: table.lines[r], column: c + 1 }, `${v} is beyond the range of float32 (±${F32_MAX.toPrecision(8)}); scale the column first`);
    }
    return v;
  };
  if (options.target === undefined) {
    const x = new Float32Array(rows * cols);
    for (let i = 0; i < rows * cols; i++) x[i] = toF32(data[i], Math.floor(i / cols), i % cols);
    return new TensorDataset(tensor(x, [rows, cols]));
  }
  let t: number;
  if (options.target === 'last') t = cols - 1;
  else if (typeof options.target === 'string') {
    t = table.columns ? table.columns.indexOf(options.target) : -1;
    if (t < 0) throw new Error(`${name}: no column named '${options.target}' (columns: ${table.columns ? table.columns.join(', ') : 'none, the file has no header'})`);
  } else t = options.target < 0 ? cols + options.target : options.target;
  if (!(t >= 0 && t < cols)) throw new Error(`${name}: target column ${options.target} is outside the ${cols} columns`);
  const x = new Float32Array(rows * (cols - 1));
  const intTarget = (options.targetDtype ?? 'int32') === 'int32';
  const y = intTarget ? new Int32Array(rows) : new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let k = 0;
    for (let c = 0; c < cols; c++) {
      const v = data[r * cols + c];
      if (c === t) {
        if (intTarget && !Number.isInteger(v)) {
          throw new DataFormatError(name, { line: table.lines[r], column: c + 1 }, `expected an integer class label in the target column, got ${v}`);
        }
        // Int32Array would wrap 4294967297 to 1 and 2147483648 to -2147483648.
        if (intTarget && !(v >= 0 && v <= 2147483647)) {
          throw new DataFormatError(name, { line: table.lines[r], column: c + 1 }, `class label ${v} is outside 0..2147483647 (labels are class indices)`);
        }
        y[r] = intTarget ? v : toF32(v, r, c);
      } else x[r * (cols - 1) + k++] = toF32(v, r, c);
    }
  }
  return new TensorDataset(tensor(x, [rows, cols - 1]), tensor(y, [rows], { dtype: intTarget ? 'int32' : 'float32' }));
}

/** Reads a CSV file into a TensorDataset (see csvToDataset). Node only. */
export async function loadCsv(path: string, options: CsvDatasetOptions = {}): Promise<TensorDataset> {
  checkCsvOptions('loadCsv', options, DATASET_OPTIONS);
  const { target: _target, targetDtype: _targetDtype, ...csvOptions } = options;
  const table = await readCsv(path, csvOptions);
  return csvToDataset(table, { ...options, name: options.name ?? path });
}
