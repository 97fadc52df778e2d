/**
 * Issue 11.1 / 20.5: every options object of the public API refuses an unknown key with a
 * "did you mean" hint (PyTorch's snake_case spelling named as the camelCase option).
 *
 * The table holds one misspelled call per options object. The coverage test walks the public
 * API (every function and class exported by ts/index.ts and its namespaces) and requires each
 * export to be in the table or in NO_OPTIONS (exports that take no options object): a new
 * export with options fails here until it is given a row (and a check).
 *
 * Also here: the known cases that used to change training silently (DataLoader({batch_size}),
 * fit({clip_grad_norm}), trainEnsemble({bagging}), CrossEntropyLoss({label_smoothing}),
 * LeakyReLU({negativeSlope}) which gave NaN), parameter-group keys, metric names, and the
 * DataLoader's augmentation that is off when it does not shuffle.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as tread from '../ts/index.js';
import { init } from '../ts/runtime/wasm.js';

const { nn, optim, data, train, landscape, search, exporting, worker } = tread;
const S = optim.lrScheduler;

let dir = '';
beforeAll(async () => {
  await init({ threads: 1 });
  dir = mkdtempSync(join(tmpdir(), 'tread-options-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const param = () => tread.tensor([1, 2, 3], [3]);
const sgd = () => new optim.SGD([param()], { lr: 0.1 });
const spirals = () => data.twoSpirals({ n: 20, seed: 1 });
const model = () => new nn.Sequential(new nn.Linear(2, 2));
const fitBase = () => ({ train: new data.DataLoader(spirals(), { batchSize: 10 }), optimizer: sgd(), lossFn: new nn.CrossEntropyLoss(), epochs: 1 });
const ensembleBase = () => ({ members: 2, makeModel: model, makeOptimizer: (m: any) => new optim.SGD(m.parameters(), { lr: 0.1 }), data: spirals(), epochs: 1, lossFn: new nn.CrossEntropyLoss() });
const objective = async () => 1;
const memoryStore = () => ({ kind: 'memory', put: async () => {}, get: async () => null, delete: async () => {}, keys: async () => [] }) as any;
const mse = () => new nn.MSELoss();

/**
 * [export path, call with a misspelled key, the key it must name, the hint it must give, and
 * what the error calls the key when not 'option' (setFileLimits: 'limit')].
 */
type Row = [string, () => unknown, string, string, string?];
const ROWS: Row[] = [
  // runtime and tensors
  ['tread.init', () => tread.init({ relaxed_simd: true } as any), 'relaxed_simd', 'relaxedSimd'],
  ['tread.tensor', () => tread.tensor([1], [1], { requires_grad: true } as any), 'requires_grad', 'requiresGrad'],
  ['tread.zeros', () => tread.zeros([2], { dtyp: 'int32' } as any), 'dtyp', 'dtype'],
  ['tread.ones', () => tread.ones([2], { requires_grad: true } as any), 'requires_grad', 'requiresGrad'],
  ['tread.full', () => tread.full([2], 1, { dtyp: 'int32' } as any), 'dtyp', 'dtype'],
  ['tread.empty', () => tread.empty([2], { dtyp: 'int32' } as any), 'dtyp', 'dtype'],
  ['tread.arange', () => tread.arange(3, { dtyp: 'int32' } as any), 'dtyp', 'dtype'],
  ['tread.rand', () => tread.rand(2, 3, { requires_grad: true } as any), 'requires_grad', 'requiresGrad'],
  ['tread.randn', () => tread.randn([2], { sead: 1 } as any), 'sead', 'seed'],
  ['tread.randint', () => tread.randint(0, 10, [2], { dtyp: 'int32' } as any), 'dtyp', 'dtype'],
  ['tread.setFileLimits', () => tread.setFileLimits({ idx_bytes: 2 ** 20 } as any), 'idx_bytes', 'idxBytes', 'limit'],
  ['tread.fileLimits', () => tread.fileLimits({ safetensors_tensors: 10 } as any), 'safetensors_tensors', 'safetensorsTensors', 'limit'],
  // statistics and ordering
  ['tread.variance', () => tread.variance(tread.ones([2, 2]), { keep_dim: true } as any), 'keep_dim', 'keepdim'],
  ['tread.std', () => tread.std(tread.ones([2, 2]), { corection: 0 } as any), 'corection', 'correction'],
  ['tread.varMean', () => tread.varMean(tread.ones([2, 2]), { dims: 0 } as any), 'dims', 'dim'],
  ['tread.stdMean', () => tread.stdMean(tread.ones([2, 2]), { keep_dim: true } as any), 'keep_dim', 'keepdim'],
  ['tread.logsumexp', () => tread.logsumexp(tread.ones([2, 2]), { keep_dim: true } as any), 'keep_dim', 'keepdim'],
  ['tread.norm', () => tread.norm(tread.ones([2, 2]), { ord: 2 } as any), 'ord', ''],
  ['tread.vectorNorm', () => tread.vectorNorm(tread.ones([2, 2]), { p: 2 } as any), 'p', ''],
  ['tread.sort', () => tread.sort(tread.ones([3]), { descend: true } as any), 'descend', 'descending'],
  ['tread.topk', () => tread.topk(tread.ones([3]), 2, { lagest: false } as any), 'lagest', 'largest'],
  // layers
  ['nn.Linear', () => new nn.Linear(2, 2, { bais: false } as any), 'bais', 'bias'],
  ['nn.Conv2d', () => new nn.Conv2d(1, 1, 3, { padding_mode: 'reflect' } as any), 'padding_mode', 'paddingMode'],
  ['nn.MaxPool2d', () => new nn.MaxPool2d(2, { ceil_mode: true } as any), 'ceil_mode', 'ceilMode'],
  ['nn.AvgPool2d', () => new nn.AvgPool2d(2, { count_include_pad: false } as any), 'count_include_pad', 'countIncludePad'],
  ['nn.BatchNorm1d', () => new nn.BatchNorm1d(3, { track_running_stats: false } as any), 'track_running_stats', 'trackRunningStats'],
  ['nn.BatchNorm2d', () => new nn.BatchNorm2d(3, { momentun: 0.2 } as any), 'momentun', 'momentum'],
  ['nn.Dropout', () => new nn.Dropout(0.5, { sead: 1 } as any), 'sead', 'seed'],
  ['nn.LeakyReLU', () => new nn.LeakyReLU({ negative_slope: 0.2 } as any), 'negative_slope', 'negativeSlope'],
  ['nn.ELU', () => new nn.ELU({ alpa: 0.5 } as any), 'alpa', 'alpha'],
  ['nn.GELU', () => new nn.GELU({ approximation: 'tanh' } as any), 'approximation', 'approximate'],
  ['nn.Softplus', () => new nn.Softplus({ treshold: 10 } as any), 'treshold', 'threshold'],
  ['nn.Softmax', () => new nn.Softmax({ dimm: 1 } as any), 'dimm', 'dim'],
  ['nn.LogSoftmax', () => new nn.LogSoftmax({ Dim: 1 } as any), 'Dim', 'dim'],
  ['nn.Flatten', () => new nn.Flatten({ start_dim: 2 } as any), 'start_dim', 'startDim'],
  ['nn.LayerNorm', () => new nn.LayerNorm(3, { elementwise_affine: false } as any), 'elementwise_affine', 'elementwiseAffine'],
  ['nn.GroupNorm', () => new nn.GroupNorm(2, 4, { afine: false } as any), 'afine', 'affine'],
  ['nn.Embedding', () => new nn.Embedding(5, 2, { padding_idx: 0 } as any), 'padding_idx', 'paddingIdx'],
  ['nn.Conv1d', () => new nn.Conv1d(1, 1, 3, { padding_mode: 'reflect' } as any), 'padding_mode', 'paddingMode'],
  ['nn.Dropout2d', () => new nn.Dropout2d(0.5, { in_place: true } as any), 'in_place', 'inplace'],
  // losses, modules and functions
  ['nn.CrossEntropyLoss', () => new nn.CrossEntropyLoss({ label_smoothing: 0.1 } as any), 'label_smoothing', 'labelSmoothing'],
  ['nn.NLLLoss', () => new nn.NLLLoss({ ignore_index: 0 } as any), 'ignore_index', 'ignoreIndex'],
  ['nn.MSELoss', () => new nn.MSELoss({ reductio: 'sum' } as any), 'reductio', 'reduction'],
  ['nn.L1Loss', () => new nn.L1Loss({ reductio: 'sum' } as any), 'reductio', 'reduction'],
  ['nn.SmoothL1Loss', () => new nn.SmoothL1Loss({ bet: 1 } as any), 'bet', 'beta'],
  ['nn.HuberLoss', () => new nn.HuberLoss({ delt: 2 } as any), 'delt', 'delta'],
  ['nn.BCELoss', () => new nn.BCELoss({ reductin: 'sum' } as any), 'reductin', 'reduction'],
  ['nn.BCEWithLogitsLoss', () => new nn.BCEWithLogitsLoss({ pos_weight: [2] } as any), 'pos_weight', 'posWeight'],
  ['nn.crossEntropy', () => nn.crossEntropy(tread.zeros([1, 2]), tread.tensor([0], [1], { dtype: 'int32' }), { label_smoothing: 0.1 } as any), 'label_smoothing', 'labelSmoothing'],
  ['nn.nllLoss', () => nn.nllLoss(tread.zeros([1, 2]), tread.tensor([0], [1], { dtype: 'int32' }), { ignore_index: 1 } as any), 'ignore_index', 'ignoreIndex'],
  ['nn.mseLoss', () => nn.mseLoss(tread.zeros([2]), tread.zeros([2]), { reductio: 'sum' } as any), 'reductio', 'reduction'],
  ['nn.l1Loss', () => nn.l1Loss(tread.zeros([2]), tread.zeros([2]), { reductio: 'sum' } as any), 'reductio', 'reduction'],
  ['nn.smoothL1Loss', () => nn.smoothL1Loss(tread.zeros([2]), tread.zeros([2]), { bet: 1 } as any), 'bet', 'beta'],
  ['nn.huberLoss', () => nn.huberLoss(tread.zeros([2]), tread.zeros([2]), { delt: 1 } as any), 'delt', 'delta'],
  ['nn.binaryCrossEntropy', () => nn.binaryCrossEntropy(tread.zeros([2]), tread.zeros([2]), { weigth: [1, 1] } as any), 'weigth', 'weight'],
  ['nn.binaryCrossEntropyWithLogits', () => nn.binaryCrossEntropyWithLogits(tread.zeros([2]), tread.zeros([2]), { pos_weight: [1, 1] } as any), 'pos_weight', 'posWeight'],
  // init
  ['nn.init.kaimingUniform_', () => nn.init.kaimingUniform_(tread.zeros([2, 2]), { non_linearity: 'relu' } as any), 'non_linearity', 'nonlinearity'],
  ['nn.init.kaimingNormal_', () => nn.init.kaimingNormal_(tread.zeros([2, 2]), { mod: 'fan_out' } as any), 'mod', 'mode'],
  ['nn.init.kaimingUniformBound', () => nn.init.kaimingUniformBound([2, 2], { non_linearity: 'relu' } as any), 'non_linearity', 'nonlinearity'],
  ['nn.init.kaimingNormalStd', () => nn.init.kaimingNormalStd([2, 2], { non_linearity: 'relu' } as any), 'non_linearity', 'nonlinearity'],
  ['nn.init.uniform_', () => nn.init.uniform_(tread.zeros([2]), 0, 1, { sed: 1 } as any), 'sed', 'seed'],
  ['nn.init.normal_', () => nn.init.normal_(tread.zeros([2]), 0, 1, { sed: 1 } as any), 'sed', 'seed'],
  ['nn.init.xavierUniform_', () => nn.init.xavierUniform_(tread.zeros([2, 2]), 1, { sed: 1 } as any), 'sed', 'seed'],
  ['nn.init.xavierNormal_', () => nn.init.xavierNormal_(tread.zeros([2, 2]), 1, { sed: 1 } as any), 'sed', 'seed'],
  ['nn.init.scaledUniform_', () => nn.init.scaledUniform_(tread.zeros([2, 2]), 1, { sed: 1 } as any), 'sed', 'seed'],
  ['nn.init.scaledNormal_', () => nn.init.scaledNormal_(tread.zeros([2, 2]), 1, { sed: 1 } as any), 'sed', 'seed'],
  ['nn.init.defaultLayerInit_', () => nn.init.defaultLayerInit_(tread.zeros([2, 2]), null, { sed: 1 } as any), 'sed', 'seed'],
  // optimizers (options and parameter groups), clipping, penalties
  ['optim.SGD', () => new optim.SGD([param()], { lr: 0.1, weight_decay: 0.1 } as any), 'weight_decay', 'weightDecay'],
  ['optim.Adagrad', () => new optim.Adagrad([param()], { lr_decay: 0.1 } as any), 'lr_decay', 'lrDecay'],
  ['optim.RMSprop', () => new optim.RMSprop([param()], { centred: true } as any), 'centred', 'centered'],
  ['optim.Adadelta', () => new optim.Adadelta([param()], { weight_decay: 0.1 } as any), 'weight_decay', 'weightDecay'],
  ['optim.Adam', () => new optim.Adam([param()], { ams_grad: true } as any), 'ams_grad', 'amsgrad'],
  ['optim.AdamW', () => new optim.AdamW([param()], { weight_decay: 0.1 } as any), 'weight_decay', 'weightDecay'],
  ['optim.Adamax', () => new optim.Adamax([param()], { beta: [0.9, 0.99] } as any), 'beta', 'betas'],
  ['optim.NAdam', () => new optim.NAdam([param()], { momentum_decay: 0.1 } as any), 'momentum_decay', 'momentumDecay'],
  ['optim.RAdam', () => new optim.RAdam([param()], { check_finite: false } as any), 'check_finite', 'checkFinite'],
  ['optim.Optimizer', () => new optim.Adam([{ params: [param()], weight_decay: 0.1 }] as any), 'weight_decay', 'weightDecay'],
  ['optim.clipGradNorm_', () => optim.clipGradNorm_([param()], 1, 2, { error_if_nonfinite: true } as any), 'error_if_nonfinite', 'errorIfNonfinite'],
  ['optim.applyPenalties', () => optim.applyPenalties(sgd(), { l3: 0.1 } as any), 'l3', 'l1'],
  // schedulers
  ['optim.lrScheduler.LambdaLR', () => new S.LambdaLR(sgd(), { lr_lambda: () => 1 } as any), 'lr_lambda', 'lrLambda'],
  ['optim.lrScheduler.MultiplicativeLR', () => new S.MultiplicativeLR(sgd(), { lr_lambda: () => 1 } as any), 'lr_lambda', 'lrLambda'],
  ['optim.lrScheduler.StepLR', () => new S.StepLR(sgd(), { step_size: 2 } as any), 'step_size', 'stepSize'],
  ['optim.lrScheduler.MultiStepLR', () => new S.MultiStepLR(sgd(), { milestone: [2] } as any), 'milestone', 'milestones'],
  ['optim.lrScheduler.ExponentialLR', () => new S.ExponentialLR(sgd(), { gamma: 0.9, last_epoch: -1 } as any), 'last_epoch', 'lastEpoch'],
  ['optim.lrScheduler.CosineAnnealingLR', () => new S.CosineAnnealingLR(sgd(), { T_max: 10 } as any), 'T_max', 'tMax'],
  ['optim.lrScheduler.CosineAnnealingWarmRestarts', () => new S.CosineAnnealingWarmRestarts(sgd(), { T_0: 10 } as any), 'T_0', 't0'],
  ['optim.lrScheduler.LinearLR', () => new S.LinearLR(sgd(), { start_factor: 0.5 } as any), 'start_factor', 'startFactor'],
  ['optim.lrScheduler.ConstantLR', () => new S.ConstantLR(sgd(), { total_iters: 5 } as any), 'total_iters', 'totalIters'],
  ['optim.lrScheduler.PolynomialLR', () => new S.PolynomialLR(sgd(), { total_iters: 5 } as any), 'total_iters', 'totalIters'],
  ['optim.lrScheduler.OneCycleLR', () => new S.OneCycleLR(sgd(), { max_lr: 0.1, totalSteps: 10 } as any), 'max_lr', 'maxLr'],
  ['optim.lrScheduler.CyclicLR', () => new S.CyclicLR(sgd(), { base_lr: 0.01, maxLr: 0.1 } as any), 'base_lr', 'baseLr'],
  ['optim.lrScheduler.SequentialLR', () => new S.SequentialLR(sgd(), { schedulers: [], milestone: [] } as any), 'milestone', 'milestones'],
  ['optim.lrScheduler.ReduceLROnPlateau', () => new S.ReduceLROnPlateau(sgd(), { threshold_mode: 'abs' } as any), 'threshold_mode', 'thresholdMode'],
  // data
  ['data.DataLoader', () => new data.DataLoader(spirals(), { batch_size: 8 } as any), 'batch_size', 'batchSize'],
  ['data.ImageDataset', () => new data.ImageDataset(new Uint8Array(4), [1, 1, 2, 2], [0], { scal: 1 } as any), 'scal', 'scale'],
  ['data.randomSplit', () => data.randomSplit(spirals(), [10, 10], { sead: 1 } as any), 'sead', 'seed'],
  ['data.trainValSplit', () => data.trainValSplit(spirals(), { val_fraction: 0.5 } as any), 'val_fraction', 'valFraction'],
  ['data.parseCsv', () => data.parseCsv('a,b\n1,2\n', { delimeter: ';' } as any), 'delimeter', 'delimiter'],
  ['data.readCsv', () => data.readCsv(join(dir, 'none.csv'), { headers: true } as any), 'headers', 'header'],
  ['data.loadCsv', () => data.loadCsv(join(dir, 'none.csv'), { target_dtype: 'float32' } as any), 'target_dtype', 'targetDtype'],
  ['data.csvToDataset', () => data.csvToDataset(data.parseCsv('a,b\n1,2\n'), { traget: 'b' } as any), 'traget', 'target'],
  ['data.loadIdxImages', () => data.loadIdxImages('x', 'y', { clases: [] } as any), 'clases', 'classes'],
  ['data.loadMnist', () => data.loadMnist({ folderr: 'x' } as any), 'folderr', 'folder'],
  ['data.loadMnistAll', () => data.loadMnistAll({ scal: 1 } as any), 'scal', 'scale'],
  ['data.loadFashionMnist', () => data.loadFashionMnist('train', { folderr: 'x' } as any), 'folderr', 'folder'],
  ['data.twoSpirals', () => data.twoSpirals({ nosie: 0.1 } as any), 'nosie', 'noise'],
  ['data.gaussianBlobs', () => data.gaussianBlobs({ center: 3 } as any), 'center', 'centers'],
  ['data.xor', () => data.xor({ nosie: 0.1 } as any), 'nosie', 'noise'],
  ['data.StandardScaler', () => new data.StandardScaler({ per_channel: true } as any), 'per_channel', 'perChannel'],
  ['data.MinMaxScaler', () => new data.MinMaxScaler({ feature_range: [0, 1] } as any), 'feature_range', 'featureRange'],
  ['data.PCAWhitening', () => new data.PCAWhitening({ n_components: 2 } as any), 'n_components', 'nComponents'],
  ['data.ZCAWhitening', () => new data.ZCAWhitening({ n_components: 2 } as any), 'n_components', ''],
  ['data.RandomCrop', () => new data.RandomCrop(2, 1, { fil: 0 } as any), 'fil', 'fill'],
  ['data.RandomTranslate', () => new data.RandomTranslate(1, { fil: 0 } as any), 'fil', 'fill'],
  ['data.RandomRotation', () => new data.RandomRotation(10, { interpolate: 'bilinear' } as any), 'interpolate', 'interpolation'],
  ['data.ColorJitter', () => new data.ColorJitter({ hue: 0.1 } as any), 'hue', ''],
  ['data.RandomResizedCrop', () => new data.RandomResizedCrop(2, { ratios: [0.75, 1.33] } as any), 'ratios', 'ratio'],
  ['data.fetchMnist', () => data.fetchMnist('http://localhost/mnist/', { max_bytes: 1 } as any), 'max_bytes', 'maxBytes'],
  ['data.mnistFromDigitBytes', () => data.mnistFromDigitBytes([], { scal: 1 } as any), 'scal', 'scale'],
  ['data.MapDataset', () => new (class extends data.MapDataset { readonly length = 1; getItem() { return [1]; } })({ dtype: ['float32'] } as any), 'dtype', 'dtypes'],
  ['data.mapDataset', () => data.mapDataset({ length: 1, getItem: () => [1] }, { dtype: ['float32'] } as any), 'dtype', 'dtypes'],
  ['data.RandomSampler', () => new data.RandomSampler(10, { num_samples: 5 } as any), 'num_samples', 'numSamples'],
  ['data.WeightedRandomSampler', () => new data.WeightedRandomSampler([1, 2], 2, { replacment: false } as any), 'replacment', 'replacement'],
  // train
  ['train.fit', () => train.fit(model(), { ...fitBase(), clip_grad_norm: 1 } as any), 'clip_grad_norm', 'clipGradNorm'],
  ['train.evaluate', () => train.evaluate(model(), [], { loss_fn: new nn.MSELoss() } as any), 'loss_fn', 'lossFn'],
  ['train.EarlyStopping', () => new train.EarlyStopping({ restore_best_weights: true } as any), 'restore_best_weights', 'restoreBestWeights'],
  ['train.ModelCheckpoint', () => new train.ModelCheckpoint({ file: 'x', save_best_only: true } as any), 'save_best_only', 'saveBestOnly'],
  ['train.Monitor', () => new train.Monitor({ dead_relu: 0.5 } as any), 'dead_relu', 'deadRelu'],
  ['train.diagnose', () => train.diagnose(new train.History(), { desired_error: 0.1 } as any), 'desired_error', 'desiredError'],
  ['train.Ensemble', () => new train.Ensemble([model()], { log_probs: true } as any), 'log_probs', 'logProbs'],
  ['train.trainEnsemble', () => train.trainEnsemble({ ...ensembleBase(), bagging: true } as any), 'bagging', ''],
  ['train.SnapshotEnsemble', () => new train.SnapshotEnsemble({ makeModel: model, every: 1, keeep: 2 } as any), 'keeep', 'keep'],
  ['train.gridSearch', () => train.gridSearch({ lr: train.uniform(0, 1) }, objective, { step: 3 } as any), 'step', 'steps'],
  ['train.gridPoints', () => train.gridPoints({ lr: train.uniform(0, 1) }, { lrr: 3 }), 'lrr', 'lr'],
  ['train.randomSearch', () => train.randomSearch({ lr: train.uniform(0, 1) }, objective, { trials: 2, sead: 1 } as any), 'sead', 'seed'],
  ['train.successiveHalving', () => train.successiveHalving({ lr: train.uniform(0, 1) }, objective, { trials: 2, min_budget: 1 } as any), 'min_budget', 'minBudget'],
  ['train.fitObjective', () => train.fitObjective(() => ({}) as any, { monitr: 'val_loss' } as any), 'monitr', 'monitor'],
  ['train.formatTrials', () => train.formatTrials({ trials: [] } as any, { score_name: 'x' } as any), 'score_name', 'scoreName'],
  ['train.saveCheckpoint', () => train.saveCheckpoint(join(dir, 'c.safetensors'), { model: model(), optimiser: sgd() } as any), 'optimiser', 'optimizer'],
  ['train.encodeCheckpoint', () => train.encodeCheckpoint({ model: model(), bestweights: null } as any), 'bestweights', 'bestWeights'],
  ['train.saveWeights', () => train.saveWeights(join(dir, 'w.safetensors'), model(), { meta: {} } as any), 'meta', ''],
  ['train.loadCheckpoint', () => train.loadCheckpoint(join(dir, 'none.safetensors'), { model: model(), strickt: false } as any), 'strickt', 'strict'],
  ['train.applyCheckpoint', () => train.applyCheckpoint({ tensors: new Map(), metadata: {} } as any, { model: model(), schedular: null } as any), 'schedular', 'scheduler'],
  ['train.loadWeights', () => train.loadWeights(join(dir, 'none.safetensors'), model(), { strickt: false } as any), 'strickt', 'strict'],
  ['train.loadStateInto', () => train.loadStateInto(model(), new Map(), { strickt: false } as any), 'strickt', 'strict'],
  ['train.loadPretrained', () => train.loadPretrained(model(), join(dir, 'none.safetensors'), { strickt: false } as any), 'strickt', 'strict'],
  ['train.resumeFrom', () => train.resumeFrom(join(dir, 'none.safetensors'), { model: model(), optimizer: sgd(), early_stopping: null } as any), 'early_stopping', 'earlyStopping'],
  ['train.renderReport', () => train.renderReport({ history: new train.History(), titel: 'x' } as any), 'titel', 'title'],
  ['train.writeReport', () => train.writeReport(join(dir, 'r.html'), { history: new train.History(), titel: 'x' } as any), 'titel', 'title'],
  ['train.lineChart', () => train.lineChart('t', [], { log_y: true } as any), 'log_y', 'logY'],
  ['train.ConfusionMatrix', () => new train.ConfusionMatrix({ num_classes: 3 } as any), 'num_classes', 'numClasses'],
  ['train.F1Score', () => new train.F1Score({ averge: 'macro' } as any), 'averge', 'average'],
  ['train.diagnoseRun', () => train.diagnoseRun({} as any, { desired_error: 0.1 } as any), 'desired_error', 'desiredError'],
  ['train.overfitOneBatch', () => train.overfitOneBatch(model(), { data: [], loss_fn: mse() } as any), 'loss_fn', 'lossFn'],
  // browser checkpoints (an in-memory store stands in for IndexedDB / OPFS)
  ['train.checkpointBytes', () => train.checkpointBytes({ model: model(), best_weights: null } as any), 'best_weights', 'bestWeights'],
  ['train.weightsBytes', () => train.weightsBytes(model(), { meta: {} } as any), 'meta', 'metadata'],
  ['train.saveCheckpointTo', () => train.saveCheckpointTo(memoryStore(), 'c', { model: model(), optimiser: sgd() } as any), 'optimiser', 'optimizer'],
  ['train.saveWeightsTo', () => train.saveWeightsTo(memoryStore(), 'w', model(), { meta_data: {} } as any), 'meta_data', 'metadata'],
  ['train.loadCheckpointFrom', () => train.loadCheckpointFrom(memoryStore(), 'c', { model: model(), max_bytes: 1 } as any), 'max_bytes', 'maxBytes'],
  ['train.loadWeightsFrom', () => train.loadWeightsFrom(memoryStore(), 'w', model(), { strickt: false } as any), 'strickt', 'strict'],
  ['train.readBytes', () => train.readBytes(new Uint8Array(1), { max_bytes: 1 } as any), 'max_bytes', 'maxBytes'],
  // autograd, worker, export
  ['worker.serveTraining', () => worker.serveTraining(() => ({}) as any, { end_point: null } as any), 'end_point', 'endpoint'],
  ['worker.TrainingWorker', () => new worker.TrainingWorker({} as any, { transfer: true } as any), 'transfer', ''],
  ['exporting.exportToPyTorch', () => exporting.exportToPyTorch({ model: model(), optimizer: sgd(), lossFn: mse(), dir, batch_size: 8 } as any), 'batch_size', 'batchSize'],
  ['exporting.encodePyTorchExport', () => exporting.encodePyTorchExport({ model: model(), optimizer: sgd(), loss_fn: mse() } as any), 'loss_fn', 'lossFn'],
  // landscape
  ['landscape.randomDirection', () => landscape.randomDirection(model(), { sead: 1 } as any), 'sead', 'seed'],
  ['landscape.normalizeDirection', () => landscape.normalizeDirection(model(), new Float64Array(6), { ignor: [] } as any), 'ignor', 'ignore'],
  ['landscape.lossEvaluator', () => landscape.lossEvaluator(model(), mse(), [], { batch_norm: 'train' } as any), 'batch_norm', 'batchNorm'],
  ['landscape.linePath', () => landscape.linePath(model(), { alpha: [0, 1] } as any), 'alpha', 'alphas'],
  ['landscape.lossSurface', () => landscape.lossSurface(model(), { x_range: [-1, 1] } as any), 'x_range', 'xRange'],
  ['landscape.PathRecorder', () => new landscape.PathRecorder(model(), { every_steps: 1 } as any), 'every_steps', 'everySteps'],
  ['landscape.hessianEigenvalues', () => landscape.hessianEigenvalues(model(), mse(), [], { iters: 10 } as any), 'iters', 'iterations'],
  ['landscape.SharpnessCallback', () => new landscape.SharpnessCallback(mse(), [], { tol: 1e-3 } as any), 'tol', 'tolerance'],
  ['landscape.optimizerPath', () => landscape.optimizerPath(landscape.quadratic(), { optimizer: 'SGD', diverge_at: 1e6 } as any), 'diverge_at', 'divergeAt'],
  ['landscape.tuneLearningRate', () => landscape.tuneLearningRate(landscape.quadratic(), 'SGD', { lr_range: [1e-3, 1] } as any), 'lr_range', 'lrRange'],
  ['landscape.noisyQuadratic', () => landscape.noisyQuadratic({ sigma: 0.5 } as any), 'sigma', ''],
  ['landscape.noisyAbs', () => landscape.noisyAbs({ kinds: 'multiplicative' } as any), 'kinds', 'kind'],
  ['landscape.contourSvg', () => landscape.contourSvg({ xs: [0, 1], ys: [0, 1], z: [[0, 1], [1, 2]], titel: 't' } as any), 'titel', 'title'],
  ['landscape.linePlotSvg', () => landscape.linePlotSvg({ xs: [0, 1], series: [], x_label: 'x' } as any), 'x_label', 'xLabel'],
  ['landscape.compareOptimizers', () => landscape.compareOptimizers({ resolutions: 10 } as any), 'resolutions', 'resolution'],
  ['landscape.optimizersPageHtml', () => landscape.optimizersPageHtml([], { steps: 1, points: 1, lr_range: [1e-3, 1] } as any), 'lr_range', 'lrRange'],
  ['landscape.runLandscape', () => landscape.runLandscape({ model: model(), line_points: 5 } as any), 'line_points', 'linePoints'],
  ['landscape.landscapeHtml', () => landscape.landscapeHtml({ surfaces: null } as any), 'surfaces', 'surface'],
  // search
  ['search.narrowSpace', () => search.narrowSpace({ lr: search.uniform(0, 1) }, [], { min_fraction: 0.1 } as any), 'min_fraction', 'minFraction'],
  ['search.NarrowingSampler', () => new search.NarrowingSampler({ per_round: 4 } as any), 'per_round', 'perRound'],
  ['search.MedianPruner', () => new search.MedianPruner({ n_startup_trials: 2 } as any), 'n_startup_trials', ''],
  ['search.SuccessiveHalvingPruner', () => new search.SuccessiveHalvingPruner({ reduction_factor: 3 } as any), 'reduction_factor', 'reductionFactor'],
  ['search.Study', () => new search.Study({ direction: 'maximize' } as any), 'direction', ''],
  ['search.lrFinder', () => search.lrFinder(model(), { start_lr: 1e-5 } as any), 'start_lr', 'startLr'],
];

/** Exports that take no options object (positional arguments only, or nothing). */
const NO_OPTIONS = new Set<string>([
  // tensors, ops, autograd, runtime helpers
  ...'Tensor abs add argmax cat clamp clone detach div elu enableGrad endStep exp flatten gelu getThreads leakyRelu liveStorage log logSoftmax matmul max maxDim mean memoryBytes min minDim mm mul neg noGrad permute pow relu reshape runtimeInfo setThreads shapeSize sigmoid silu softmax softplus sqrt square squeeze stack sub sum t tanh tidy transpose unsqueeze view zerosLike'
    .split(' ')
    .map((k) => `tread.${k}`),
  // nn: modules without options, helpers
  ...'Identity Module ModuleList Parameter ReLU Sequential SiLU Sigmoid Tanh manualSeed seedDropout'.split(' ').map((k) => `nn.${k}`),
  ...'calculateGain computeFans constant_ ones_ zeros_ scaledScale xavierNormalStd xavierUniformBound'.split(' ').map((k) => `nn.init.${k}`),
  ...'gradNorm clipGradValue_ l1Penalty l2Penalty'.split(' ').map((k) => `optim.${k}`),
  'optim.lrScheduler.LRScheduler', // the abstract base
  'optim.lrScheduler.ChainedScheduler', // takes a list of schedulers
  // data: classes and functions with positional arguments
  ...'ByteBuffer CenterCrop Compose DataFormatError Lambda Normalize RandomHorizontalFlip RandomVerticalFlip Rng Subset TensorDataset ToTensor channelAffine channelMoments decodeIdx gatherRows getBatch getItem isGzip parseIdx readIdx'
    .split(' ')
    .map((k) => `data.${k}`),
  ...'cumsum eq ne gt ge lt le where narrow select slice indexSelect gather'.split(' ').map((k) => `tread.${k}`),
  'autograd.Function', // subclassed: static forward / backward
  'autograd.FunctionCtx',
  'autograd.isGradEnabled',
  'nn.AdaptiveAvgPool2d', // takes the output size only
  ...'SequentialSampler mnistDigitBytes splitMnist rotate adjustColors resizedCrops'.split(' ').map((k) => `data.${k}`),
  ...'ParamSpace evaluationBatches projectPath quadratic standardTestFunctions monotoneBetween'.split(' ').map((k) => `landscape.${k}`),
  ...'RandomSampler TrialContext TrialPruned studySvg'.split(' ').map((k) => `search.${k}`),
  // train: browser helpers (a store name, a blob, a file name), diagnosis and PyTorch state helpers
  ...'safetensorsBlob downloadBytes describeByteSource indexedDBStore opfsStore primaryCauseLine rankFindings formatFinding summarizeFindings layerLabels loadPyTorchOptimizerState pyTorchOptimizerState'
    .split(' ')
    .map((k) => `train.${k}`),
  // train: classes and helpers with positional arguments (or internal plumbing)
  ...'Accuracy CheckpointError History MeanAbsoluteError MeanValue SafetensorsError SearchParam StopAtValue TopKAccuracy allFinite atomicWriteFile bootstrapIndices choice defaultRng defaultSchedulerInterval firstNonFinite formatEpoch forwardLayers freeze gradNorm intUniform isPlateauScheduler lambdaCallback locateNonFinite logUniform memberSeed paramGroupsByPrefix parseSafetensors planModelLoad readCheckpointFile replaceLastLayer resolveMetrics restoreState runHook sampleSpace sequentialLayers serializeSafetensors setDefaultRng snapshotState sortTrials trainableParameters trainableSummary unfreeze uniform'
    .split(' ')
    .map((k) => `train.${k}`),
]);

/** Top-level re-exports of namespace members, tested under their namespace path. */
const ALIASES: Record<string, string> = {
  'tread.fit': 'train.fit', 'tread.EarlyStopping': 'train.EarlyStopping', 'tread.saveCheckpoint': 'train.saveCheckpoint',
  'tread.loadCheckpoint': 'train.loadCheckpoint', 'tread.ModelCheckpoint': 'train.ModelCheckpoint', 'tread.resumeFrom': 'train.resumeFrom',
  'tread.Monitor': 'train.Monitor', 'tread.Ensemble': 'train.Ensemble', 'tread.trainEnsemble': 'train.trainEnsemble',
  'tread.gridSearch': 'train.gridSearch', 'tread.randomSearch': 'train.randomSearch',
  'tread.diagnose': 'train.diagnose', 'tread.overfitOneBatch': 'train.overfitOneBatch', 'tread.exportToPyTorch': 'exporting.exportToPyTorch',
  'tread.var': 'tread.variance', 'tread.linalg.vectorNorm': 'tread.vectorNorm',
  'autograd.noGrad': 'tread.noGrad', 'autograd.enableGrad': 'tread.enableGrad',
  // tread.search re-exports the searches of tread.train
  ...Object.fromEntries(
    'choice uniform logUniform intUniform SearchParam sampleSpace gridPoints gridSearch randomSearch successiveHalving fitObjective sortTrials formatTrials'.split(' ').map((k) => [`search.${k}`, `train.${k}`]),
  ),
};

function publicExports(): string[] {
  const out: string[] = [];
  const walk = (prefix: string, ns: Record<string, unknown>) => {
    for (const [k, v] of Object.entries(ns)) if (typeof v === 'function') out.push(`${prefix}.${k}`);
  };
  walk('tread', tread as any);
  walk('nn', nn as any);
  walk('nn.init', nn.init as any);
  walk('optim', optim as any);
  walk('optim.lrScheduler', S as any);
  walk('data', data as any);
  walk('train', train as any);
  walk('tread.linalg', tread.linalg as any);
  walk('autograd', tread.autograd as any);
  walk('worker', tread.worker as any);
  walk('landscape', tread.landscape as any);
  walk('search', tread.search as any);
  walk('exporting', tread.exporting as any);
  return out;
}

async function failure(fn: () => unknown): Promise<Error | null> {
  try {
    await fn();
  } catch (e) {
    return e as Error;
  }
  return null;
}

describe('every public options object refuses an unknown key (issue 11.1)', () => {
  it('the table covers the whole public API: each export has a row or is listed as taking no options', () => {
    const tested = new Set(ROWS.map((r) => r[0]));
    const unclassified = publicExports().filter((e) => !tested.has(ALIASES[e] ?? e) && !NO_OPTIONS.has(ALIASES[e] ?? e));
    expect(unclassified, 'exports with neither a row in ROWS nor a place in NO_OPTIONS').toEqual([]);
    // And the table does not test things that are not exported.
    const exported = new Set(publicExports());
    expect(ROWS.map((r) => r[0]).filter((p) => !exported.has(p))).toEqual([]);
  });

  for (const [path, call, key, hint, what = 'option'] of ROWS) {
    it(`${path}: '${key}' is an error${hint ? ` that suggests '${hint}'` : ''}`, async () => {
      const e = await failure(call);
      expect(e, `${path} accepted the unknown ${what} '${key}'`).not.toBeNull();
      expect(e!.message).toContain(`unknown ${what} '${key}'`);
      if (hint) expect(e!.message).toContain(`did you mean '${hint}'?`);
      if (hint && key.includes('_')) expect(e!.message).toContain("tread's options are camelCase");
    });
  }
});

describe('the cases that used to change training without a word', () => {
  it('LeakyReLU({ negativeSlope }) works as LeakyReLU(0.2) (it gave NaN); a bad slope is refused', () => {
    const x = tread.tensor([-2, -1, 0, 3], [4]);
    const a = new nn.LeakyReLU({ negativeSlope: 0.2 }).forward(x);
    const b = new nn.LeakyReLU(0.2).forward(x);
    expect([...a.f32]).toEqual([...b.f32]);
    expect([...a.f32]).toEqual([Math.fround(-0.4), Math.fround(-0.2), 0, 3]);
    expect(() => new nn.LeakyReLU('0.2' as any)).toThrow(/LeakyReLU: negativeSlope must be a number/);
    expect(() => new nn.LeakyReLU(NaN)).toThrow(/LeakyReLU: negativeSlope must be a number/);
  });

  it('the other layers with a PyTorch positional argument take it in an options object too', () => {
    const x = tread.tensor([-1, 0.5, 2, -3], [2, 2]);
    expect([...new nn.ELU({ alpha: 0.5 }).forward(x).f32]).toEqual([...new nn.ELU(0.5).forward(x).f32]);
    expect([...new nn.Softmax({ dim: 0 }).forward(x).f32]).toEqual([...new nn.Softmax(0).forward(x).f32]);
    expect([...new nn.Softplus({ beta: 2, threshold: 5 }).forward(x).f32]).toEqual([...new nn.Softplus(2, 5).forward(x).f32]);
    expect(new nn.GELU({ approximate: 'tanh' }).approximate).toBe('tanh');
    expect(new nn.Flatten({ startDim: 0 }).forward(x).shape).toEqual([4]);
    const d = new nn.Dropout({ p: 0.25, seed: 3 });
    expect([d.p, d.seed]).toEqual([0.25, 3]);
  });

  it('values are checked too, by name', async () => {
    await expect(tread.init({ relaxedSimd: 'on' as any })).rejects.toThrow(/init: relaxedSimd must be true, false or 'auto', got "on"/);
    await expect(tread.init({ threads: '2' as any })).rejects.toThrow(/init: threads must be a positive integer or 'auto', got "2"/);
    expect(() => new nn.CrossEntropyLoss({ labelSmoothing: 1.5 })).toThrow(/CrossEntropyLoss: labelSmoothing must be <= 1, got 1.5/);
    expect(() => new nn.Linear(2, 2, { bias: 'no' as any })).toThrow(/Linear: bias must be true or false/);
    expect(() => new data.DataLoader(spirals(), { shuffle: 'yes' as any })).toThrow(/DataLoader: shuffle must be true or false/);
    expect(() => new train.EarlyStopping({ mode: 'maximum' as any })).toThrow(/EarlyStopping: mode must be one of 'auto', 'min', 'max', got "maximum"/);
    expect(() => tread.zeros([2], { dtype: 'float64' as any })).toThrow(/zeros|full: dtype must be one of 'float32', 'int32'/);
    expect(() => new optim.SGD([{ params: [param()], l2: -1 }], { lr: 0.1 })).toThrow(/SGD: paramGroups\[0\]\.l2 must be >= 0/);
  });

  it('fit refuses clip_grad_norm (it trained without clipping), a bad clip value and a misspelled metric', async () => {
    await expect(train.fit(model(), { ...fitBase(), clip_grad_norm: 1 } as any)).rejects.toThrow(/fit: unknown option 'clip_grad_norm' \(did you mean 'clipGradNorm'\?/);
    await expect(train.fit(model(), { ...fitBase(), clipGradNorm: { max_norm: 1 } } as any)).rejects.toThrow(/unknown option 'max_norm' \(did you mean 'maxNorm'\?/);
    await expect(train.fit(model(), { ...fitBase(), clipGradNorm: -1 })).rejects.toThrow(/fit: clipGradNorm must be >= 0/);
    await expect(train.fit(model(), { ...fitBase(), metrics: ['acuracy'] })).rejects.toThrow(/unknown metric 'acuracy' \(did you mean 'accuracy'\?\)/);
    await expect(train.fit(model(), { ...fitBase(), model: model() } as any)).rejects.toThrow(/options.model is not the model/);
  });

  it('trainEnsemble refuses bagging (bootstrap was silently off) and checks fitOptions', async () => {
    await expect(train.trainEnsemble({ ...ensembleBase(), bagging: true } as any)).rejects.toThrow(/trainEnsemble: unknown option 'bagging'/);
    await expect(train.trainEnsemble({ ...ensembleBase(), fitOptions: { clip_grad_norm: 1 } } as any)).rejects.toThrow(/trainEnsemble: fitOptions: unknown option 'clip_grad_norm' \(did you mean 'clipGradNorm'/);
    await expect(train.trainEnsemble({ ...ensembleBase(), fitOptions: { epochs: 3 } } as any)).rejects.toThrow(/fitOptions: unknown option 'epochs'/);
  });

  it('DataLoader({ batch_size }) is an error (it trained with batch size 1)', () => {
    expect(() => new data.DataLoader(spirals(), { batch_size: 8 } as any)).toThrow(
      /DataLoader: unknown option 'batch_size' \(did you mean 'batchSize'\? tread's options are camelCase\); known: batchSize/,
    );
  });

  it('parameter groups: a misspelled key is an error; l1, l2, names and scheduler keys are allowed', () => {
    expect(() => new optim.Adam([{ params: [param()], lrr: 0.1 }] as any)).toThrow(/Adam: unknown option 'lrr' in paramGroups\[0\] \(did you mean 'lr'\?\)/);
    expect(() => new optim.SGD([{ params: [param()], weight_decay: 0.1 }] as any, { lr: 0.1 })).toThrow(/did you mean 'weightDecay'\? tread's options are camelCase/);
    const opt = new optim.SGD([{ params: [param()], l2: 0.1, names: ['w'], initialLr: 0.1 }], { lr: 0.1 });
    expect(opt.paramGroups[0]!.l2).toBe(0.1);
    expect(() => opt.addParamGroup({ params: [param()], momentun: 0.9 } as any)).toThrow(/did you mean 'momentum'/);
  });

  it('a scheduler refuses the old capital T0: the rule is PyTorch names in camelCase (t0, tMult, tMax)', () => {
    expect(() => new S.CosineAnnealingWarmRestarts(sgd(), { T0: 10 } as any)).toThrow(/unknown option 'T0' \(did you mean 't0'\?/);
    const s = new S.CosineAnnealingWarmRestarts(sgd(), { t0: 2, tMult: 2 });
    expect(s.t0).toBe(2);
  });
});

describe('augmentation that a non-shuffling DataLoader would silently skip', () => {
  const images = () => new data.TensorDataset(tread.tensor(Float32Array.from({ length: 4 * 16 }, (_, i) => i), [4, 1, 4, 4]), tread.tensor([0, 1, 0, 1], [4], { dtype: 'int32' }));

  it('warns and says how to turn it on (training: true) or keep it off (training: false)', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      new data.DataLoader(images(), { batchSize: 4, transform: [new data.RandomHorizontalFlip(1)] });
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(/DataLoader: the random transforms RandomHorizontalFlip are off.*training: true.*training: false/);
      warn.mockClear();
      new data.DataLoader(images(), { batchSize: 4, transform: [new data.RandomHorizontalFlip(1)], training: false });
      new data.DataLoader(images(), { batchSize: 4, shuffle: true, transform: [new data.RandomHorizontalFlip(1)] });
      new data.DataLoader(images(), { batchSize: 4, transform: [new data.Normalize(0, 1)] });
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  it('with training: true a loader that does not shuffle augments (every image mirrored by p = 1)', () => {
    const loader = new data.DataLoader(images(), { batchSize: 4, transform: [new data.RandomHorizontalFlip(1)], training: true });
    const [x] = [...loader][0]!;
    const v = x!.f32;
    // Row 0 of image 0 was 0 1 2 3: mirrored it is 3 2 1 0.
    expect([v[0], v[1], v[2], v[3]]).toEqual([3, 2, 1, 0]);
  });
});
