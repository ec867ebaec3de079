// Seeded synthetic face identities: the project's default training and test data (no face data set can
// be installed here). (seed, identity, image) fixes every pixel, so nothing needs to be stored; write a
// cache (cache.ts) only when rendering becomes the bottleneck.
//
// Split rule: of `identities` identity numbers 0..N-1, the last `heldOutIdentities` are the unseen
// (held-out) set and never appear in the training split. Labels are renumbered from 0 in each split:
// train label k is identity k; held-out label k is identity (N - heldOutIdentities + k).
import type { DatasetSpec, ImageDataset } from './dataset.ts';
import { checkIndex } from './dataset.ts';
import { sampleIdentity, sampleVariation, type FaceIdentity } from './face-params.ts';
import { renderFace } from './face-render.ts';
import type { RgbImage } from './image.ts';

export interface SyntheticOptions {
  seed: number;
  /** Identities in train and held-out together. */
  identities: number;
  /** The last this-many identity numbers form the held-out split. */
  heldOutIdentities: number;
  imagesPerIdentity: number;
  /** 0..1: scales every within-identity variation (pose, expression, light, occlusion, blur, noise). */
  difficulty: number;
  /** Rendered width = height in pixels. */
  size: number;
  split: 'train' | 'heldout' | 'all';
}

export const SYNTHETIC_DEFAULTS: SyntheticOptions = {
  seed: 0,
  identities: 1000,
  heldOutIdentities: 100,
  imagesPerIdentity: 20,
  difficulty: 0.5,
  size: 112,
  split: 'train',
};

/** Image `image` of identity `identity` (an identity number, not a split label), size x size RGB. */
export function syntheticFace(seed: number, identity: number, image: number, difficulty = SYNTHETIC_DEFAULTS.difficulty, size = SYNTHETIC_DEFAULTS.size): RgbImage {
  return renderFace(sampleIdentity(seed, identity), sampleVariation(seed, identity, image, difficulty), size);
}

export class SyntheticFaces implements ImageDataset {
  readonly options: SyntheticOptions;
  readonly name: string;
  readonly numClasses: number;
  readonly length: number;
  /** Identity number of label 0. */
  readonly firstIdentity: number;
  private readonly identityCache = new Map<number, FaceIdentity>();

  constructor(options: Partial<SyntheticOptions> = {}) {
    const o = { ...SYNTHETIC_DEFAULTS, ...options };
    for (const key of ['identities', 'imagesPerIdentity', 'size'] as const) {
      if (!Number.isInteger(o[key]) || o[key] < 1) throw new RangeError(`synthetic faces: ${key} must be an integer >= 1, got ${o[key]}`);
    }
    if (!Number.isInteger(o.heldOutIdentities) || o.heldOutIdentities < 0 || o.heldOutIdentities >= o.identities) {
      throw new RangeError(`synthetic faces: heldOutIdentities must be an integer in 0..${o.identities - 1}, got ${o.heldOutIdentities}`);
    }
    if (!(o.difficulty >= 0 && o.difficulty <= 1)) throw new RangeError(`synthetic faces: difficulty must be in 0..1, got ${o.difficulty}`);
    this.options = o;
    const trainIdentities = o.identities - o.heldOutIdentities;
    this.firstIdentity = o.split === 'heldout' ? trainIdentities : 0;
    this.numClasses = o.split === 'train' ? trainIdentities : o.split === 'heldout' ? o.heldOutIdentities : o.identities;
    this.length = this.numClasses * o.imagesPerIdentity;
    this.name = `synthetic(seed ${o.seed}, ${o.split}, ${this.numClasses} identities x ${o.imagesPerIdentity}, difficulty ${o.difficulty}, ${o.size}px)`;
  }

  get spec(): DatasetSpec {
    return { kind: 'synthetic', options: this.options };
  }

  label(index: number): number {
    checkIndex(this, index);
    return Math.floor(index / this.options.imagesPerIdentity);
  }

  /** Identity number behind a label of this split. */
  identityOf(label: number): number {
    return this.firstIdentity + label;
  }

  image(index: number): RgbImage {
    const label = this.label(index);
    const identity = this.identityOf(label);
    let traits = this.identityCache.get(identity);
    if (!traits) {
      if (this.identityCache.size > 4096) this.identityCache.clear(); // bounded: traits are cheap to resample
      traits = sampleIdentity(this.options.seed, identity);
      this.identityCache.set(identity, traits);
    }
    const { seed, difficulty, size, imagesPerIdentity } = this.options;
    return renderFace(traits, sampleVariation(seed, identity, index % imagesPerIdentity, difficulty), size);
  }
}
