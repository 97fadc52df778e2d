/**
 * The flag walk that the smaller commands (landscape, optimizers, export) share: `--flag value`,
 * `--flag=value`, switches without a value, positionals, `--help`/`-h`, and an unknown flag
 * answered with a "did you mean". (`tread train` has its own table-driven parser in args.ts:
 * it also reads config files and prints a grouped help.)
 */
import { nearest } from '../util/options.js';
import { ArgError } from './args.js';

export interface FlagSpec {
  /** The command's name, for messages: "see tread <command> --help". */
  command: string;
  /** Flags that take a value. */
  values: readonly string[];
  /** Flags that take none. */
  switches: readonly string[];
  /** Called for each valued flag, in order. */
  value: (flag: string, v: string) => void;
  /** Called for each switch. */
  flip: (flag: string) => void;
  /** Arguments that do not start with --; without this handler they are an error. */
  positional?: (arg: string) => void;
}

/** Walks `argv`; false when help was asked for (nothing else is read then). */
export function walkFlags(argv: readonly string[], spec: FlagSpec): boolean {
  const see = `see tread ${spec.command} --help`;
  const known = [...spec.values, ...spec.switches, 'help'];
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    if (raw === '--help' || raw === '-h') return false;
    if (!raw.startsWith('--')) {
      if (!spec.positional) throw new ArgError(`unexpected argument '${raw}' (${see})`);
      spec.positional(raw);
      continue;
    }
    const [flag, inline] = raw.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (spec.switches.includes(flag)) {
      if (inline !== undefined) throw new ArgError(`--${flag} takes no value`);
      spec.flip(flag);
      continue;
    }
    if (!spec.values.includes(flag)) {
      const near = nearest(flag, known);
      throw new ArgError(`unknown option --${flag}${near ? ` (did you mean --${near}?)` : ''}; ${see}`);
    }
    const v = inline ?? argv[++i];
    if (v === undefined) throw new ArgError(`--${flag} needs a value`);
    spec.value(flag, v);
  }
  return true;
}

/** `v` as a number in `lo..hi` (an integer unless `int` is false), or an ArgError naming the flag. */
export function numberFlag(flag: string, v: string, lo: number, hi: number, int = true): number {
  const n = v.trim() === '' ? NaN : Number(v);
  if (!Number.isFinite(n) || (int && !Number.isInteger(n)) || n < lo || n > hi) {
    throw new ArgError(`--${flag}: expected ${int ? 'an integer' : 'a number'} in ${lo}..${hi}, got ${JSON.stringify(v)}`);
  }
  return n;
}
