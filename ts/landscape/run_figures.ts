/**
 * The landscape figures of a finished training run (what `tread train --landscape` adds to
 * its report): the line from the initial to the final weights, and the plane through the
 * final weights spanned by the top two PCA directions of the optimizer's path (recorded by a
 * PathRecorder), with the path drawn on it. Evaluated on fixed batches, without autograd.
 */
import type { Module } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkNumberOption, checkOptions } from '../util/options.js';
import { lossEvaluator, type LossFunction } from './evaluate.js';
import { evenly, linePath, type LinePath } from './line.js';
import { ParamSpace } from './params.js';
import type { PathRecorder } from './path.js';
import { lossSurface, type Surface } from './plane.js';
import { landscapeHtml, monotoneBetween } from './report_section.js';

export interface RunFiguresOptions {
  model: Module;
  lossFn: LossFunction;
  /** Fixed evaluation batches (kept by the caller). */
  batches: readonly (readonly [Tensor, Tensor])[];
  recorder: PathRecorder;
  /** Points of the plane per axis (default 21) and of the line (default 31). */
  resolution?: number;
  linePoints?: number;
  /** The plane spans the path's extent times this (default 1.3) around the final point. */
  margin?: number;
}

export interface RunFigures {
  html: string;
  line: LinePath;
  surface: Surface;
  path: { coords: [number, number][]; explained: [number, number]; steps: number[] };
  monotone: boolean;
}

export async function runLandscape(o: RunFiguresOptions): Promise<RunFigures> {
  const owner = 'landscape.runLandscape';
  checkOptions(owner, o, ['model', 'lossFn', 'batches', 'recorder', 'resolution', 'linePoints', 'margin']);
  const resolution = checkNumberOption(owner, 'resolution', o.resolution ?? 21, { integer: true, min: 2, max: 201 });
  const linePoints = checkNumberOption(owner, 'linePoints', o.linePoints ?? 31, { integer: true, min: 2 });
  const margin = checkNumberOption(owner, 'margin', o.margin ?? 1.3, { min: 1 });
  if (o.recorder.snapshots.length < 2) throw new Error(`${owner}: the PathRecorder holds ${o.recorder.snapshots.length} snapshot(s); it needs the start and at least one more`);
  const space = new ParamSpace(o.model);
  const final = space.read();
  const evaluate = lossEvaluator(o.model, o.lossFn, o.batches, { accuracy: true });
  try {
    const line = linePath(o.model, { from: o.recorder.snapshots[0]!, to: final, evaluate, alphas: evenly(-0.5, 1.5, linePoints) });
    const proj = o.recorder.project();
    const xs = proj.coords.map((c) => c[0]);
    const ys = proj.coords.map((c) => c[1]);
    const span = (v: number[]) => Math.max(Math.abs(Math.min(...v)), Math.abs(Math.max(...v)), 1e-3) * margin;
    const surface = await lossSurface(o.model, {
      evaluate,
      center: final,
      directions: proj.directions,
      resolution,
      xRange: [-span(xs), span(xs)],
      yRange: [-span(ys), span(ys)],
    });
    const html = landscapeHtml({
      line: { ...line, fromLabel: 'the initial weights', toLabel: 'the trained weights' },
      surface: { ...surface, label: 'loss on the plane of the optimizer\'s path (PCA directions)' },
      path: { coords: proj.coords, explained: proj.explained },
    });
    return { html, line, surface, path: { coords: proj.coords, explained: proj.explained, steps: [...o.recorder.steps] }, monotone: monotoneBetween(line) };
  } finally {
    evaluate.restore();
    space.write(final);
  }
}
