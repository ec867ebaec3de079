// The data layer: datasets (synthetic faces, image folders, insightface .rec/.bin, IDX, our cache),
// augmentation and the batch loader. CPU only. See src/data/README.md.
export type { ImageDataset, DatasetSpec } from './dataset.ts';
export { openDataset } from './open.ts';
export { SyntheticFaces, syntheticFace, SYNTHETIC_DEFAULTS, type SyntheticOptions } from './synthetic.ts';
export { ImageFolderDataset } from './folder.ts';
export { InsightfaceRecDataset, writeInsightfaceRec } from './insightface-rec.ts';
export { RecordIOFile, encodeRecord, readRecordIndex, unpackIRHeader, packIRHeader, type IRHeader } from './recordio.ts';
export { readVerificationBin, VerificationBinDataset, type VerificationSet } from './verification-bin.ts';
export { unpickle, type PickleValue } from './pickle.ts';
export { readIdx, parseIdx, encodeIdxUint8, IdxDataset, fashionMnistFiles, type IdxArray, type IdxDatasetOptions } from './idx.ts';
export { writeCache, CacheDataset } from './cache.ts';
export { decodeImage, encodePng, encodeJpeg, resizeRgb, type RgbImage } from './image.ts';
export { drawTransform, writeSample, normalizePixel, type AugmentOptions } from './augment.ts';
export { BatchLoader, type Batch, type LoaderOptions, type LoaderStats } from './loader.ts';
export { samplePairs, type Pairs } from './pairs.ts';
export { DataFormatError, CorruptImageError } from './errors.ts';
