/**
 * ts/train: fit, callbacks, metrics, early stopping, checkpoints (safetensors), fine-tuning,
 * monitoring and the HTML report.
 */
export { gradNorm } from '../optim/clip.js';
export { fit, evaluate, locateNonFinite, formatEpoch, defaultSchedulerInterval, isPlateauScheduler } from './fit.js';
export type { YieldEvery } from './yield.js';
export type { FitOptions, FitResult, NonFiniteReport, Batch, BatchSource, LossFn } from './fit.js';
export { History, runHook, lambdaCallback, StopAtValue } from './callbacks.js';
export type { Callback, TrainContext, EpochLogs, HookName } from './callbacks.js';
export { Accuracy, TopKAccuracy, MeanAbsoluteError, MeanValue, resolveMetrics } from './metrics.js';
export type { Metric } from './metrics.js';
export { ConfusionMatrix, F1Score } from './confusion.js';
export type { F1Average, F1Options } from './confusion.js';
export { EarlyStopping } from './early_stopping.js';
export type { EarlyStoppingOptions, EarlyStoppingState } from './early_stopping.js';
export {
  saveCheckpoint,
  loadCheckpoint,
  saveWeights,
  loadWeights,
  loadStateInto,
  encodeCheckpoint,
  applyCheckpoint,
  readCheckpointFile,
  planModelLoad,
  CheckpointError,
} from './checkpoint.js';
export type { SaveCheckpointOptions, LoadCheckpointOptions, LoadedCheckpoint, LoadReport, TrainingState } from './checkpoint.js';
export { ModelCheckpoint, resumeFrom } from './model_checkpoint.js';
export type { ModelCheckpointOptions, ResumeState } from './model_checkpoint.js';
export { checkpointBytes, weightsBytes, saveCheckpointTo, saveWeightsTo, loadCheckpointFrom, loadWeightsFrom, safetensorsBlob, downloadBytes } from './browser_checkpoint.js';
export type { BrowserSaveOptions, BrowserLoadOptions, WeightsLoadOptions } from './browser_checkpoint.js';
export { readBytes, describeByteSource } from '../util/byte_source.js';
export type { ByteSource, ReadBytesOptions } from '../util/byte_source.js';
export { indexedDBStore, opfsStore } from './byte_store.js';
export type { ByteStore } from './byte_store.js';
export { serializeSafetensors, parseSafetensors, SafetensorsError } from './safetensors.js';
export type { SafeTensor, SafeTensorInput, SafetensorsFile, SafeDType } from './safetensors.js';
export { atomicWriteFile } from './atomic.js';
export { snapshotState, restoreState, firstNonFinite } from './state.js';
export type { StateSnapshot } from './state.js';
export { Monitor, diagnose } from './monitor.js';
export type { MonitorOptions, Diagnosis, DiagnoseOptions } from './monitor.js';
export { renderReport, writeReport, lineChart } from './report.js';
export {
  diagnoseRun,
  primaryCauseLine,
  rankFindings,
  formatFinding,
  summarizeFindings,
  layerLabels,
  FINDING_KINDS,
  CAUSAL_ORDER,
  THRESHOLDS,
} from './diagnosis/index.js';
export type { Finding, FindingKind, Severity, RunDiagnosis, RunStats } from './diagnosis/index.js';
export type { DiagnosisOptions, BatchLog } from './diagnosis/fit_diagnosis.js';
export { overfitOneBatch } from './diagnosis/overfit_one_batch.js';
export type { OverfitOneBatchOptions, OverfitOneBatchResult } from './diagnosis/overfit_one_batch.js';
export type { ReportOptions } from './report.js';
export { freeze, unfreeze, trainableParameters, trainableSummary, paramGroupsByPrefix, loadPretrained, replaceLastLayer } from './finetune.js';
export type { NameMatcher, GroupSpec, FreezeOptions, TrainableSummary } from './finetune.js';
export { loadPyTorchOptimizerState, pyTorchOptimizerState } from './pytorch_optimizer.js';
export { sequentialLayers, forwardLayers, allFinite } from './layers.js';
export { setDefaultRng, defaultRng } from './rng.js';
export type { RngStateSource } from './rng.js';
export type { ModuleLike, OptimizerLike, SchedulerLike, ParamGroupLike } from './types.js';
export { Ensemble, trainEnsemble, memberSeed, bootstrapIndices } from './ensemble.js';
export type { EnsembleCombine, EnsembleOptions, TrainEnsembleOptions, TrainEnsembleResult } from './ensemble.js';
export { choice, uniform, logUniform, intUniform, SearchParam, sampleSpace, gridPoints, gridSearch, randomSearch, successiveHalving, fitObjective, sortTrials, formatTrials } from './search.js';
export type { ParamKind, SearchSpace, ParamsOf, TrialInfo, ObjectiveValue, Objective, Trial, SearchResult, SearchOptions, GridSearchOptions, RandomSearchOptions, SuccessiveHalvingOptions, SuccessiveHalvingResult, FitTrialSetup, FitObjectiveOptions } from './search.js';
export { SnapshotEnsemble } from './snapshot_ensemble.js';
export type { SnapshotEnsembleOptions } from './snapshot_ensemble.js';
