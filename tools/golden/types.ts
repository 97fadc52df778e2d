/**
 * The replay tool's contract. One checker per fixture file (layers.json -> layers.ts ...);
 * each reads any file in that format (not the particular numbers of one set) and reports
 * one result per case.
 */
export interface CaseResult {
  /** e.g. "optimizers.json #3 Adam(amsgrad)" */
  name: string;
  ok: boolean;
  /** What differed, where and by how much, when not ok. */
  detail?: string;
}

export type Checker = (fixture: any, file: string) => Promise<CaseResult[]> | CaseResult[];

/** Largest relative error, counting |a-b| <= atol as agreement. */
export function compareArrays(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  rtol: number,
  atol: number,
): { ok: boolean; worst: number; index: number; got?: number; want?: number } {
  if (got.length !== want.length) return { ok: false, worst: Infinity, index: -1 };
  let worst = 0;
  let index = -1;
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    const diff = Math.abs(g - w);
    if (Number.isNaN(g) !== Number.isNaN(w)) return { ok: false, worst: Infinity, index: i, got: g, want: w };
    if (Number.isNaN(w) || diff <= atol || g === w) continue;
    const rel = diff / Math.max(Math.abs(w), 1e-30);
    if (rel > worst) {
      worst = rel;
      index = i;
    }
  }
  return { ok: worst <= rtol, worst, index, got: index >= 0 ? got[index] : undefined, want: index >= 0 ? want[index] : undefined };
}

/** A short text for a failed comparison. */
export function describeMismatch(what: string, r: ReturnType<typeof compareArrays>): string {
  if (r.index === -1 && r.worst === Infinity) return `${what}: length differs`;
  return `${what}: worst relative error ${r.worst.toExponential(2)} at [${r.index}] (got ${r.got}, want ${r.want})`;
}
