/**
 * Numeric CSV: every field a number (`1`, `-2.5e3`, `NaN`, `inf`), an optional header line,
 * one sample per line. Blank lines are skipped; CRLF is fine; fields may be quoted.
 *
 * Errors name the file, the line (1-based) and column, and what was expected: a ragged row
 * ("expected 5 fields as in line 2, got 4") or a field that is not a number. Nothing is
 * returned half-parsed.
 */
import { TensorDataset } from './dataset.js';
import { tensor } from '../tensor/create.js';
import { DataFormatError, nodeFs } from './util.js';
import { checkOneOf, checkOptions } from '../util/options.js';

export interface CsvOptions {
  /** Field separator (default ','). */
  delimiter?: string;
  /** true: the first line names the columns; false: it is data; 'auto' (default): a header when none of its fields is a number. */
  header?: boolean | 'auto';
  /** Name for messages (readCsv uses the path). */
  name?: string;
}

const CSV_KEYS = ['delimiter', 'header', 'name'];

export interface CsvTable {
  columns: string[] | null;
  rows: number;
  cols: number;
  /** Row-major values. */
  data: Float64Array;
  /** The 1-based line of the file each row came from (for messages). */
  lines: Uint32Array;
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
  checkOptions('parseCsv', options, CSV_KEYS);
  options ??= {};
  if (options.header !== undefined) checkOneOf('parseCsv', 'header', String(options.header), ['true', 'false', 'auto']);
  if (options.delimiter !== undefined && (typeof options.delimiter !== 'string' || options.delimiter.length !== 1)) {
    throw new Error(`parseCsv: delimiter must be one character, got ${JSON.stringify(options.delimiter)}`);
  }
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
        throw new DataFormatError(name, { line: li + 1, column: c + 1 }, `expected a number${columns ? ` for column '${columns[c]}'` : ''}, got ${show(fields[c])}`);
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
  checkOptions('readCsv', options, CSV_KEYS);
  options ??= {};
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
  checkOptions('csvToDataset', options, [...CSV_KEYS, 'target', 'targetDtype']);
  options ??= {};
  if (options.targetDtype !== undefined) checkOneOf('csvToDataset', 'targetDtype', options.targetDtype, ['int32', 'float32']);
  const name = options.name ?? '<csv>';
  const { rows, cols, data } = table;
  if (options.target === undefined) return new TensorDataset(tensor(Float32Array.from(data), [rows, cols]));
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
        y[r] = v;
      } else x[r * (cols - 1) + k++] = v;
    }
  }
  return new TensorDataset(tensor(x, [rows, cols - 1]), tensor(y, [rows], { dtype: intTarget ? 'int32' : 'float32' }));
}

/** Reads a CSV file into a TensorDataset (see csvToDataset). Node only. */
export async function loadCsv(path: string, options: CsvDatasetOptions = {}): Promise<TensorDataset> {
  checkOptions('loadCsv', options, [...CSV_KEYS, 'target', 'targetDtype']);
  options ??= {};
  const { target: _target, targetDtype: _targetDtype, ...csv } = options;
  const table = await readCsv(path, csv);
  return csvToDataset(table, { ...options, name: options.name ?? path });
}
