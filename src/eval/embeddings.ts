// Embedding rows on the CPU: validation, L2 normalization, dot products and distances.
// Everything accumulates in float64 (JS numbers), as insightface does with numpy float64 arrays,
// so float32 model outputs do not lose precision in sums over 512 dimensions.

/** One embedding row. Float32Array from the model; Float64Array after our own normalization. */
export type Embedding = Float32Array | Float64Array;

/** Throws unless every row has `dim` finite values; `what` names the collection in the message. */
export function checkEmbeddings(rows: readonly Embedding[], what: string, dim = rows[0]?.length): number {
  if (rows.length === 0) throw new Error(`${what}: no embeddings given`);
  if (dim === undefined || dim === 0) throw new Error(`${what}: embeddings have dimension 0`);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    if (row.length !== dim) {
      throw new Error(`${what}[${i}] has ${row.length} values, expected ${dim} (the dimension of ${what}[0])`);
    }
    for (let j = 0; j < row.length; j++) {
      if (!Number.isFinite(row[j]!)) throw new Error(`${what}[${i}][${j}] is ${row[j]}, not a finite number`);
    }
  }
  return dim;
}

export function dot(a: Embedding, b: Embedding): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

export function norm(a: Embedding): number {
  return Math.sqrt(dot(a, a));
}

/**
 * a / |a| in float64. A zero row stays zero, as sklearn.preprocessing.normalize leaves it (insightface
 * normalizes with it): a dead quantized network then scores badly instead of aborting the evaluation.
 */
export function l2Normalize(a: Embedding): Float64Array {
  const length = norm(a);
  const out = new Float64Array(a.length);
  if (length === 0) return out;
  for (let i = 0; i < a.length; i++) out[i] = a[i]! / length;
  return out;
}

/** |a - b|^2, computed from the difference (as insightface does), not as 2 - 2cos. */
export function squaredDistance(a: Embedding, b: Embedding): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    sum += d * d;
  }
  return sum;
}

/** Cosine similarity; 0 when either row is zero (the value a zero row gets after l2Normalize). */
export function cosineSimilarity(a: Embedding, b: Embedding): number {
  const denominator = norm(a) * norm(b);
  return denominator === 0 ? 0 : dot(a, b) / denominator;
}

/** For unit vectors |a - b|^2 = 2 - 2 cos(a, b): converts a distance threshold to a cosine one. */
export function distanceToCosine(squaredDist: number): number {
  return 1 - squaredDist / 2;
}

/**
 * Flip test-time augmentation as insightface's `verification.test` does it: the embedding of an image
 * plus the embedding of its horizontal mirror, then L2-normalized. Row i of both arrays is the same image.
 */
export function combineFlipEmbeddings(embeddings: readonly Embedding[], flipped: readonly Embedding[]): Float64Array[] {
  if (embeddings.length !== flipped.length) {
    throw new Error(`combineFlipEmbeddings: ${embeddings.length} embeddings but ${flipped.length} flipped embeddings`);
  }
  const dim = checkEmbeddings(embeddings, 'embeddings');
  checkEmbeddings(flipped, 'flipped', dim);
  return embeddings.map((row, i) => {
    const flip = flipped[i]!;
    const sum = new Float64Array(dim);
    for (let j = 0; j < dim; j++) sum[j] = row[j]! + flip[j]!;
    return l2Normalize(sum);
  });
}
