/**
 * tread.search: hyperparameter search in one place. Spaces (`choice`, `uniform`, `logUniform`,
 * `intUniform`), the one-shot searches (`gridSearch`, `randomSearch`, `successiveHalving`,
 * `fitObjective`), and studies (`Study`: samplers incl. Goodfellow's narrowing, pruners
 * (median, ASHA) fed by `trial.report`, saved to JSON and resumable), the learning-rate range
 * test (`lrFinder`) and a picture of a study (`studySvg`).
 */
export { choice, uniform, logUniform, intUniform, SearchParam, sampleSpace, gridPoints, gridSearch, randomSearch, successiveHalving, fitObjective, sortTrials, formatTrials } from '../train/search.js';
export type { ParamKind, SearchSpace, ParamsOf, TrialInfo, ObjectiveValue, Objective, Trial, SearchResult, SearchOptions, GridSearchOptions, RandomSearchOptions, SuccessiveHalvingOptions, SuccessiveHalvingResult, FitTrialSetup, FitObjectiveOptions } from '../train/search.js';
export { narrowSpace } from './narrowing.js';
export type { NarrowOptions } from './narrowing.js';
export { RandomSampler, NarrowingSampler } from './samplers.js';
export type { Sampler, NarrowingOptions } from './samplers.js';
export { MedianPruner, SuccessiveHalvingPruner } from './pruners.js';
export type { Pruner, MedianPrunerOptions, SuccessiveHalvingPrunerOptions } from './pruners.js';
export { Study, TrialContext, TrialPruned } from './study.js';
export type { StudyTrial, TrialState, StudyOptions, OptimizeOptions, StudyObjective } from './study.js';
export type { ParallelObjective, ParallelOptions } from './parallel.js';
export { lrFinder } from './lr_finder.js';
export type { LrFinderOptions, LrFinderResult } from './lr_finder.js';
export { studySvg } from './plot.js';
