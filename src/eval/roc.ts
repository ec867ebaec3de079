// ROC curve, AUC and TAR@FAR over all pairs at once (no folds), from pair distances.
// Convention shared with verification.ts: distance = squared Euclidean distance of L2-normalized
// embeddings (= 2 - 2 cos), smaller = more alike, a pair is accepted as "same" when distance < threshold.

export interface RocCurve {
  /** False accept rate (impostor pairs accepted / impostor pairs), ascending from 0 to 1. */
  far: Float64Array;
  /** True accept rate (genuine pairs accepted / genuine pairs), ascending from 0 to 1. */
  tar: Float64Array;
  /** Point i accepts every pair with distance <= acceptDistanceAtMost[i]; -Infinity for the (0, 0) point. */
  acceptDistanceAtMost: Float64Array;
  /** Area under the curve (trapezoids) = P(genuine distance < impostor distance) + P(tie) / 2. */
  auc: number;
  genuinePairs: number;
  impostorPairs: number;
}

export interface TarAtFar {
  /** The FAR asked for. */
  far: number;
  /** Genuine pairs accepted at the threshold; null when the impostor pairs cannot resolve `far`. */
  tar: number | null;
  /** Accept when distance < threshold; null when unresolvable, Infinity when every pair may be accepted. */
  threshold: number | null;
  /** The FAR the threshold really gives on these impostor pairs (<= far); null when unresolvable. */
  achievedFar: number | null;
  /** ceil(1 / far): below that many impostor pairs even one false accept exceeds `far`. */
  impostorPairsNeeded: number;
}

function countClasses(isSame: ArrayLike<boolean>): { genuine: number; impostor: number } {
  let genuine = 0;
  for (let i = 0; i < isSame.length; i++) if (isSame[i]) genuine++;
  return { genuine, impostor: isSame.length - genuine };
}

function checkBothClasses(isSame: ArrayLike<boolean>, what: string): { genuine: number; impostor: number } {
  const counts = countClasses(isSame);
  if (counts.genuine === 0 || counts.impostor === 0) {
    throw new Error(`${what} needs genuine and impostor pairs, got ${counts.genuine} genuine and ${counts.impostor} impostor`);
  }
  return counts;
}

function checkLengths(distances: ArrayLike<number>, isSame: ArrayLike<boolean>, what: string): void {
  if (distances.length !== isSame.length) {
    throw new Error(`${what}: ${distances.length} distances but ${isSame.length} is-same flags`);
  }
}

/** The full ROC: one point per distinct distance (tied pairs enter together, so ties give a diagonal). */
export function rocCurve(distances: ArrayLike<number>, isSame: ArrayLike<boolean>): RocCurve {
  checkLengths(distances, isSame, 'rocCurve');
  const { genuine, impostor } = checkBothClasses(isSame, 'rocCurve');
  const order = Array.from({ length: distances.length }, (_, i) => i).sort((i, j) => distances[i]! - distances[j]!);
  const far = [0];
  const tar = [0];
  const acceptAtMost = [-Infinity];
  let acceptedGenuine = 0;
  let acceptedImpostor = 0;
  let auc = 0;
  for (let k = 0; k < order.length; ) {
    const value = distances[order[k]!]!;
    for (; k < order.length && distances[order[k]!] === value; k++) {
      if (isSame[order[k]!]) acceptedGenuine++;
      else acceptedImpostor++;
    }
    const x = acceptedImpostor / impostor;
    const y = acceptedGenuine / genuine;
    auc += (x - far[far.length - 1]!) * (y + tar[tar.length - 1]!) / 2;
    far.push(x);
    tar.push(y);
    acceptAtMost.push(value);
  }
  return {
    far: Float64Array.from(far),
    tar: Float64Array.from(tar),
    acceptDistanceAtMost: Float64Array.from(acceptAtMost),
    auc,
    genuinePairs: genuine,
    impostorPairs: impostor,
  };
}

export function impostorPairsNeeded(far: number): number {
  // The tolerance keeps 1 / 1e-3 from becoming 1001 through rounding of the decimal FAR.
  return Math.ceil(1 / far - 1e-9);
}

/**
 * TAR at the largest accept set whose FAR on these impostor pairs is <= far. With n impostor pairs at
 * most k = floor(far * n) may be accepted: the threshold is the (k+1)-th smallest impostor distance
 * (strict <, so genuine pairs tied with it are rejected too; the estimate is conservative).
 * When n < ceil(1 / far), k is 0 for every far below 1/n: the number would be TAR at FAR = 0, not at
 * `far`, so it is reported as null.
 */
export function tarAtFar(distances: ArrayLike<number>, isSame: ArrayLike<boolean>, fars: readonly number[]): TarAtFar[] {
  checkLengths(distances, isSame, 'tarAtFar');
  checkBothClasses(isSame, 'tarAtFar');
  const impostorDistances: number[] = [];
  const genuineDistances: number[] = [];
  for (let i = 0; i < distances.length; i++) (isSame[i] ? genuineDistances : impostorDistances).push(distances[i]!);
  impostorDistances.sort((a, b) => a - b);
  const n = impostorDistances.length;
  return fars.map((far) => {
    if (!(far > 0 && far <= 1)) throw new Error(`tarAtFar: FAR must be in (0, 1], got ${far}`);
    const needed = impostorPairsNeeded(far);
    if (n < needed) return { far, tar: null, threshold: null, achievedFar: null, impostorPairsNeeded: needed };
    const allowedFalseAccepts = Math.floor(far * n + 1e-9);
    const threshold = allowedFalseAccepts >= n ? Infinity : impostorDistances[allowedFalseAccepts]!;
    const accepted = (list: number[]) => list.reduce((count, d) => count + (d < threshold ? 1 : 0), 0);
    return {
      far,
      tar: accepted(genuineDistances) / genuineDistances.length,
      threshold,
      achievedFar: accepted(impostorDistances) / n,
      impostorPairsNeeded: needed,
    };
  });
}
