/**
 * Run-time checks of options objects, for users of plain JavaScript (no compiler catches a
 * misspelled key there). Every public constructor or function that takes an options object
 * calls `checkOptions` on it: an unknown key is an error that names the owner, the key and
 * the nearest known key, e.g.
 *
 *   DataLoader: unknown option 'batch_size' (did you mean 'batchSize'? tread's options are
 *   camelCase); known: batchSize, shuffle, ...
 *
 * The rule for names: tread's options are PyTorch's in camelCase (`step_size` -> `stepSize`,
 * `T_0` -> `t0`). A PyTorch spelling is never accepted silently, but always named in the hint.
 *
 * This file depends on nothing else in tread (every layer may use it).
 */

/** `step_size` -> `stepSize`, `T_max` -> `tMax`, `T_0` -> `t0`. */
export function camelCase(key: string): string {
  const parts = key.split('_').filter((p) => p.length > 0);
  if (parts.length === 0) return key;
  return parts
    .map((p, i) => (i === 0 ? p.charAt(0).toLowerCase() + p.slice(1) : p.charAt(0).toUpperCase() + p.slice(1)))
    .join('');
}

/** Edit distance with adjacent transpositions (optimal string alignment), case-insensitive. */
function distance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The known key a misspelled one most likely meant, or undefined. */
export function nearest(key: string, known: readonly string[]): string | undefined {
  const camel = camelCase(key);
  const exact = known.find((k) => k === camel || k.toLowerCase() === camel.toLowerCase() || k.toLowerCase() === key.toLowerCase());
  if (exact !== undefined) return exact;
  // An abbreviation: its letters in order in exactly one known key with the same first letter
  // ('iters' for 'iterations', 'lrSched' for 'lrScheduler').
  if (camel.length >= 3) {
    const c = camel.toLowerCase();
    const abbreviates = (k: string) => {
      const kl = k.toLowerCase();
      if (kl[0] !== c[0]) return false;
      let j = 0;
      for (const ch of kl) if (ch === c[j]) j++;
      return j === c.length;
    };
    const matches = known.filter(abbreviates);
    if (matches.length === 1) return matches[0];
  }
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = Math.min(distance(key, k), distance(camel, k));
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  // Accept up to a third of the key's length in edits (at least 1, at most 3).
  const limit = Math.max(1, Math.min(3, Math.floor(key.length / 3)));
  return bestD <= limit ? best : undefined;
}

/** "(did you mean 'x'? ...)" or "" */
export function didYouMean(key: string, known: readonly string[]): string {
  const near = nearest(key, known);
  if (near === undefined) return '';
  const why = key.includes('_') || /^[A-Z]/.test(key) ? " tread's options are camelCase" : '';
  return ` (did you mean '${near}'?${why})`;
}

/**
 * Throws when `options` is not a plain object (undefined/null pass: no options) or holds a
 * key not in `known`. `owner` names the class or function, as in its error messages.
 */
export function checkOptions(owner: string, options: unknown, known: readonly string[], what = 'option'): void {
  if (options === undefined || options === null) return;
  if (typeof options !== 'object' || Array.isArray(options)) {
    // A number or string here is usually PyTorch's next positional argument
    // (MaxPool2d(3, 2, 1), Conv2d(3, 16, 3, 1, 1)): say how tread takes it.
    const positional = (typeof options === 'number' || typeof options === 'string' || typeof options === 'boolean') && known.length > 0
      ? `: tread takes the optional arguments by name, e.g. { ${known[0]}: ${show(options)} } (${what}s: ${known.join(', ')})`
      : '';
    throw new TypeError(`${owner}: options must be an object, got ${Array.isArray(options) ? 'an array' : `${typeof options} ${show(options)}`}${positional}`);
  }
  for (const k of Object.keys(options)) {
    if (!known.includes(k)) {
      throw new Error(`${owner}: unknown ${what} '${k}'${didYouMean(k, known)}; known: ${known.join(', ')}`);
    }
  }
}

/** Shows a value in an error message without dumping large objects. */
export function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return v.length > 8 ? `[${v.slice(0, 8).map(show).join(', ')}, ...]` : `[${v.map(show).join(', ')}]`;
  if (v && typeof v === 'object') return v.constructor?.name && v.constructor !== Object ? v.constructor.name : 'an object';
  return String(v);
}

export interface NumberRule {
  min?: number;
  max?: number;
  minExclusive?: boolean;
  maxExclusive?: boolean;
  integer?: boolean;
}

/** A finite number (or integer) within the bounds, or an error naming owner and option. */
export function checkNumberOption(owner: string, option: string, v: unknown, rule: NumberRule = {}): number {
  const { min, max, minExclusive, maxExclusive, integer } = rule;
  if (typeof v !== 'number' || Number.isNaN(v)) throw new Error(`${owner}: ${option} must be a number, got ${show(v)}`);
  if (integer && !Number.isInteger(v)) throw new Error(`${owner}: ${option} must be an integer, got ${v}`);
  if (min !== undefined && (minExclusive ? !(v > min) : !(v >= min))) throw new Error(`${owner}: ${option} must be ${minExclusive ? '>' : '>='} ${min}, got ${v}`);
  if (max !== undefined && (maxExclusive ? !(v < max) : !(v <= max))) throw new Error(`${owner}: ${option} must be ${maxExclusive ? '<' : '<='} ${max}, got ${v}`);
  return v;
}

export function checkBooleanOption(owner: string, option: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new Error(`${owner}: ${option} must be true or false, got ${show(v)}`);
  return v;
}

export function checkOneOf<T extends string>(owner: string, option: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    const hint = typeof v === 'string' ? didYouMean(v, allowed as readonly string[]) : '';
    throw new Error(`${owner}: ${option} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${show(v)}${hint}`);
  }
  return v as T;
}
