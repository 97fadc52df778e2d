/**
 * tread.data: data sets, loaders, splits, file readers, scalers, whitening and batch
 * augmentation. See dataset.ts and loader.ts for the memory and collate model.
 */
export { TensorDataset, ImageDataset, Subset, getBatch, getItem, gatherRows } from './dataset.js';
export type { Dataset, Batch, ImageDatasetOptions } from './dataset.js';
export { DataLoader } from './loader.js';
export type { DataLoaderOptions } from './loader.js';
export { randomSplit, trainValSplit } from './split.js';
export type { TrainValSplitOptions } from './split.js';
export { parseIdx, decodeIdx, readIdx, loadIdxImages, isGzip } from './idx.js';
export type { IdxArray, IdxType } from './idx.js';
export { parseCsv, readCsv, csvToDataset, loadCsv } from './csv.js';
export type { CsvOptions, CsvTable, CsvDatasetOptions } from './csv.js';
export { loadMnist, loadMnistAll, MNIST_SPLIT } from './mnist.js';
export type { MnistOptions } from './mnist.js';
export { fetchMnist, mnistDigitBytes, mnistFromDigitBytes, splitMnist } from './mnist_json.js';
export type { FetchMnistOptions } from './mnist_json.js';
export { loadFashionMnist, FASHION_MNIST_DIR, FASHION_MNIST_CLASSES } from './fashion_mnist.js';
export type { FashionMnistOptions } from './fashion_mnist.js';
export { twoSpirals, gaussianBlobs, xor } from './synthetic.js';
export { StandardScaler, MinMaxScaler, channelMoments } from './scalers.js';
export type { StandardScalerState, MinMaxScalerState } from './scalers.js';
export { PCAWhitening, ZCAWhitening } from './whitening.js';
export type { WhiteningState } from './whitening.js';
export {
  Compose, RandomCrop, CenterCrop, RandomHorizontalFlip, RandomVerticalFlip, RandomTranslate,
  Normalize, ToTensor, Lambda, channelAffine,
} from './transforms.js';
export type { BatchTransform, TransformContext } from './transforms.js';
export { Rng, DEFAULT_SEED } from './random.js';
export { DataFormatError, ByteBuffer } from './util.js';
export { MapDataset, mapDataset } from './map_dataset.js';
export type { MapDatasetOptions, Item, Field } from './map_dataset.js';
export { SequentialSampler, RandomSampler, WeightedRandomSampler } from './sampler.js';
export type { Sampler, RandomSamplerOptions, WeightedRandomSamplerOptions } from './sampler.js';
export { RandomRotation, rotate } from './augment/random_rotation.js';
export type { RandomRotationOptions } from './augment/random_rotation.js';
export { ColorJitter, adjustColors } from './augment/color_jitter.js';
export type { ColorJitterOptions } from './augment/color_jitter.js';
export { RandomResizedCrop, resizedCrops } from './augment/random_resized_crop.js';
export type { RandomResizedCropOptions, CropBox } from './augment/random_resized_crop.js';
