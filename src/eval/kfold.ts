// K-fold splits in order, as sklearn's KFold(n_splits, shuffle=False) makes them (insightface's LFold):
// the first n % k folds hold floor(n / k) + 1 consecutive items, the rest floor(n / k).

export interface FoldSplit {
  /** Indices the threshold is fitted on (every item outside the fold), ascending. */
  train: Int32Array;
  /** Indices of the held-out fold, ascending and consecutive. */
  test: Int32Array;
}

export function kFoldSplits(itemCount: number, foldCount: number): FoldSplit[] {
  if (!Number.isInteger(foldCount) || foldCount < 2) {
    throw new Error(`kFoldSplits: foldCount must be an integer >= 2, got ${foldCount}`);
  }
  if (!Number.isInteger(itemCount) || itemCount < foldCount) {
    throw new Error(`kFoldSplits: ${itemCount} items cannot be split into ${foldCount} folds (need at least ${foldCount})`);
  }
  const baseSize = Math.floor(itemCount / foldCount);
  const largerFolds = itemCount % foldCount;
  const splits: FoldSplit[] = [];
  let start = 0;
  for (let fold = 0; fold < foldCount; fold++) {
    const size = baseSize + (fold < largerFolds ? 1 : 0);
    const test = new Int32Array(size);
    const train = new Int32Array(itemCount - size);
    for (let i = 0; i < size; i++) test[i] = start + i;
    for (let i = 0, t = 0; i < itemCount; i++) if (i < start || i >= start + size) train[t++] = i;
    splits.push({ train, test });
    start += size;
  }
  return splits;
}
