// Opens a dataset from its plain-data spec (what worker threads receive).
import { CacheDataset } from './cache.ts';
import type { DatasetSpec, ImageDataset } from './dataset.ts';
import { ImageFolderDataset } from './folder.ts';
import { IdxDataset } from './idx.ts';
import { InsightfaceRecDataset } from './insightface-rec.ts';
import { SyntheticFaces } from './synthetic.ts';
import { VerificationBinDataset } from './verification-bin.ts';

export function openDataset(spec: DatasetSpec): ImageDataset {
  switch (spec.kind) {
    case 'synthetic':
      return new SyntheticFaces(spec.options);
    case 'folder':
      return new ImageFolderDataset(spec.root);
    case 'insightface-rec':
      return new InsightfaceRecDataset(spec.dir);
    case 'idx':
      return new IdxDataset(spec);
    case 'cache':
      return new CacheDataset(spec.path);
    case 'verification-bin':
      return new VerificationBinDataset(spec.path);
  }
}
