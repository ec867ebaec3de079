// Closed-set identification: each probe is ranked against every gallery identity by cosine similarity;
// rank-k accuracy is the share of probes whose true identity is among the k best-scoring identities.
import { checkEmbeddings, dot, l2Normalize, type Embedding } from './embeddings.ts';

export type Identity = number | string;

export interface LabelledEmbedding {
  embedding: Embedding;
  identity: Identity;
}

export interface IdentificationOptions {
  /** Ranks to report; default [1, 5, 10] (those above the number of identities report 1). */
  ranks?: readonly number[];
  /**
   * How an identity with several gallery embeddings is scored: 'max' (default) = best cosine over its
   * embeddings; 'centroid' = cosine to the mean of its normalized embeddings.
   */
  galleryScore?: 'max' | 'centroid';
}

export interface IdentificationResult {
  probes: number;
  identities: number;
  /** Accuracy at each requested rank, in the order asked. */
  rankAccuracy: { rank: number; accuracy: number }[];
  /** Cumulative match characteristic: cmc[k - 1] = rank-k accuracy, for k = 1 .. identities. */
  cmc: Float64Array;
  /**
   * Per probe, the rank of its true identity (1 = best). Identities scoring equal to the true one count
   * as ranked above it, so ties never flatter the result.
   */
  rankOfTrueIdentity: Int32Array;
}

interface GalleryIdentity {
  identity: Identity;
  rows: Float64Array[];
}

function groupGallery(gallery: readonly LabelledEmbedding[], mode: 'max' | 'centroid'): GalleryIdentity[] {
  const byIdentity = new Map<Identity, Float64Array[]>();
  for (const { embedding, identity } of gallery) {
    const rows = byIdentity.get(identity) ?? [];
    rows.push(l2Normalize(embedding));
    byIdentity.set(identity, rows);
  }
  return [...byIdentity].map(([identity, rows]) => {
    if (mode === 'max') return { identity, rows };
    const mean = new Float64Array(rows[0]!.length);
    for (const row of rows) for (let j = 0; j < row.length; j++) mean[j]! += row[j]! / rows.length;
    return { identity, rows: [l2Normalize(mean)] };
  });
}

export function identify(
  gallery: readonly LabelledEmbedding[],
  probes: readonly LabelledEmbedding[],
  options: IdentificationOptions = {},
): IdentificationResult {
  const dim = checkEmbeddings(gallery.map((g) => g.embedding), 'gallery');
  checkEmbeddings(probes.map((p) => p.embedding), 'probes', dim);
  const ranks = options.ranks ?? [1, 5, 10];
  for (const rank of ranks) {
    if (!Number.isInteger(rank) || rank < 1) throw new Error(`identify: rank must be an integer >= 1, got ${rank}`);
  }
  const identities = groupGallery(gallery, options.galleryScore ?? 'max');
  const known = new Set(identities.map((g) => g.identity));
  probes.forEach((p, i) => {
    if (!known.has(p.identity)) throw new Error(`identify: probes[${i}] has identity ${String(p.identity)}, which has no gallery embedding`);
  });

  const rankOfTrueIdentity = new Int32Array(probes.length);
  const scores = new Float64Array(identities.length);
  probes.forEach((probe, p) => {
    const query = l2Normalize(probe.embedding);
    let trueScore = -Infinity;
    identities.forEach((candidate, c) => {
      scores[c] = candidate.rows.reduce((best, row) => Math.max(best, dot(query, row)), -Infinity);
      if (candidate.identity === probe.identity) trueScore = scores[c]!;
    });
    let rank = 1;
    identities.forEach((candidate, c) => {
      if (candidate.identity !== probe.identity && scores[c]! >= trueScore) rank++;
    });
    rankOfTrueIdentity[p] = rank;
  });

  const probesAtRank = new Int32Array(identities.length);
  for (const rank of rankOfTrueIdentity) probesAtRank[rank - 1]!++;
  const cmc = new Float64Array(identities.length);
  for (let k = 0, cumulative = 0; k < cmc.length; k++) cmc[k] = (cumulative += probesAtRank[k]!) / probes.length;
  const accuracyAtRank = (rank: number) => rankOfTrueIdentity.reduce((n, r) => n + (r <= rank ? 1 : 0), 0) / probes.length;
  return {
    probes: probes.length,
    identities: identities.length,
    rankAccuracy: ranks.map((rank) => ({ rank, accuracy: accuracyAtRank(rank) })),
    cmc,
    rankOfTrueIdentity,
  };
}
