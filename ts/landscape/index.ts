/**
 * tread.landscape: loss landscapes and optimizer paths, for any Module and loss.
 *
 * - `linePath`: the loss between two parameter sets (Goodfellow, Vinyals & Saxe 2015);
 * - `lossSurface`: a 2-D grid along filter-normalized random directions (Li et al. 2018)
 *   or given ones, coarse to fine, cancellable;
 * - `PathRecorder` + `projectPath`: the optimizer's path on the PCA plane of its snapshots;
 * - `hessianEigenvalues` / `SharpnessCallback`: the top Hessian eigenvalues (sharpness);
 * - test functions (Rosenbrock, Beale, ..., noisy prototypes) and `optimizerPath` /
 *   `tuneLearningRate` to run tread's optimizers on them.
 */
export { ParamSpace } from './params.js';
export type { ParamSlice } from './params.js';
export { randomDirection, normalizeDirection } from './directions.js';
export type { DirectionOptions } from './directions.js';
export { lossEvaluator, evaluationBatches } from './evaluate.js';
export type { Evaluator, EvaluatorOptions, PointValue, LossFunction } from './evaluate.js';
export { linePath } from './line.js';
export type { LinePath, LinePathOptions } from './line.js';
export { lossSurface } from './plane.js';
export type { Surface, SurfaceOptions } from './plane.js';
export { projectPath, PathRecorder } from './path.js';
export type { PathProjection, PathRecorderOptions } from './path.js';
export { hessianEigenvalues, SharpnessCallback } from './hessian.js';
export type { HessianEigen, HessianOptions } from './hessian.js';
export * from './test_functions.js';
export { optimizerPath, tuneLearningRate, OPTIMIZER_NAMES } from './optimizer_paths.js';
export type { OptimizerName, OptimizerPath, OptimizerPathOptions, TuneOptions } from './optimizer_paths.js';
export { contourSvg, linePlotSvg } from './svg.js';
export type { ContourOptions, PathSeries, LineSeries } from './svg.js';
export { compareOptimizers, optimizersPageHtml, STANDARD_ENTRIES } from './optimizers_page.js';
export type { OptimizerEntry, ComparisonOptions, FunctionComparison } from './optimizers_page.js';
export { runLandscape } from './run_figures.js';
export type { RunFigures, RunFiguresOptions } from './run_figures.js';
export { landscapeHtml, monotoneBetween } from './report_section.js';
export type { LandscapeFigures } from './report_section.js';
