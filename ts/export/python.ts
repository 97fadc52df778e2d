/** Python literals for generated code: numbers (incl. inf/nan), strings, booleans, None, tuples. */
export function py(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'float("nan")';
    if (!Number.isFinite(v)) return v > 0 ? 'float("inf")' : '-float("inf")';
    return Number.isInteger(v) ? String(v) : String(v);
  }
  if (typeof v === 'string') return JSON.stringify(v); // a valid Python string literal for JSON-escaped text
  if (Array.isArray(v)) return v.length === 1 ? `(${py(v[0])},)` : `(${v.map(py).join(', ')})`;
  throw new Error(`export: cannot write ${typeof v} as a Python literal`);
}

/** `weightDecay` -> `weight_decay`, `initialLr` -> `initial_lr`, `tMax` -> `T_max`-style names are mapped by the caller. */
export function snakeCase(k: string): string {
  return k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** Plain data as a Python literal: dicts, lists, numbers (inf/nan too), strings, booleans, None. */
export function pyData(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(pyData).join(', ')}]`;
  if (v && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${pyData(x)}`).join(', ')}}`;
  return py(v);
}
