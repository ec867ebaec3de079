// Angles on the hypersphere for the quantization-error analysis (MISSION.md): angle between vectors,
// class centres, intra-class scatter, inter-class centre angles, and AQE split into class + individual error.
// All angles are in radians; toDegrees converts.
import { checkEmbeddings, l2Normalize, norm, type Embedding } from './embeddings.ts';
import type { Identity } from './identification.ts';

export function toDegrees(radians: number): number {
  return (radians * 180) / Math.PI;
}

/**
 * Angle between a and b in [0, pi]. arccos(cos) loses half the digits near 0 (cos ~ 1 - t^2/2), so this
 * uses 2 atan2(|u - v|, |u + v|) on the unit vectors u, v: accurate for tiny, right and near-pi angles.
 */
export function angleBetween(a: Embedding, b: Embedding): number {
  if (a.length !== b.length) throw new Error(`angleBetween: vectors have ${a.length} and ${b.length} values`);
  if (norm(a) === 0 || norm(b) === 0) throw new Error(`angleBetween: the angle to a zero vector is undefined (|a| = ${norm(a)}, |b| = ${norm(b)})`);
  const u = l2Normalize(a);
  const v = l2Normalize(b);
  let differenceSq = 0;
  let sumSq = 0;
  for (let i = 0; i < u.length; i++) {
    differenceSq += (u[i]! - v[i]!) ** 2;
    sumSq += (u[i]! + v[i]!) ** 2;
  }
  return 2 * Math.atan2(Math.sqrt(differenceSq), Math.sqrt(sumSq));
}

export function angleBetweenDegrees(a: Embedding, b: Embedding): number {
  return toDegrees(angleBetween(a, b));
}

export interface Summary {
  count: number;
  mean: number;
  /** Population std. */
  std: number;
  min: number;
  max: number;
}

export function summarize(values: ArrayLike<number>): Summary {
  const n = values.length;
  if (n === 0) throw new Error('summarize: no values');
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    sum += values[i]!;
    min = Math.min(min, values[i]!);
    max = Math.max(max, values[i]!);
  }
  const mean = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += (values[i]! - mean) ** 2;
  return { count: n, mean, std: Math.sqrt(squares / n), min, max };
}

function checkLabels(features: readonly Embedding[], labels: ArrayLike<Identity>, what: string): number {
  if (features.length !== labels.length) throw new Error(`${what}: ${features.length} features but ${labels.length} labels`);
  return checkEmbeddings(features, `${what} features`);
}

/** Class centre = mean of the L2-normalized features of the class (not renormalized: its norm < 1 shows spread). */
export function classCentres(features: readonly Embedding[], labels: ArrayLike<Identity>): Map<Identity, Float64Array> {
  const dim = checkLabels(features, labels, 'classCentres');
  const sums = new Map<Identity, { sum: Float64Array; count: number }>();
  features.forEach((feature, i) => {
    const entry = sums.get(labels[i]!) ?? { sum: new Float64Array(dim), count: 0 };
    const unit = l2Normalize(feature);
    for (let j = 0; j < dim; j++) entry.sum[j]! += unit[j]!;
    entry.count++;
    sums.set(labels[i]!, entry);
  });
  return new Map([...sums].map(([label, { sum, count }]) => [label, sum.map((x) => x / count)]));
}

export interface IntraClassScatter {
  /** Mean over all samples of the angle to their class centre. */
  meanAngle: number;
  /** Per class, the mean angle of its samples to its centre. */
  perClass: Map<Identity, number>;
  /** Per sample, the angle to its class centre, in input order. */
  sampleAngles: Float64Array;
}

/** Compactness: how far samples sit from their class centre (larger = less compact). */
export function intraClassScatter(features: readonly Embedding[], labels: ArrayLike<Identity>): IntraClassScatter {
  const centres = classCentres(features, labels);
  const sampleAngles = Float64Array.from(features, (feature, i) => angleBetween(feature, centres.get(labels[i]!)!));
  const totals = new Map<Identity, { sum: number; count: number }>();
  sampleAngles.forEach((angle, i) => {
    const total = totals.get(labels[i]!) ?? { sum: 0, count: 0 };
    totals.set(labels[i]!, { sum: total.sum + angle, count: total.count + 1 });
  });
  return {
    meanAngle: summarize(sampleAngles).mean,
    perClass: new Map([...totals].map(([label, { sum, count }]) => [label, sum / count])),
    sampleAngles,
  };
}

/** Separability: the angle between every pair of class centres (the paper finds them near 90 degrees). */
export function interClassCentreAngles(centres: ReadonlyMap<Identity, Embedding>): { angles: Float64Array; summary: Summary } {
  const list = [...centres.values()];
  if (list.length < 2) throw new Error(`interClassCentreAngles: needs at least 2 class centres, got ${list.length}`);
  const angles: number[] = [];
  for (let i = 0; i < list.length; i++) for (let j = i + 1; j < list.length; j++) angles.push(angleBetween(list[i]!, list[j]!));
  return { angles: Float64Array.from(angles), summary: summarize(angles) };
}

export interface QuantizationErrorAnalysis {
  /** AQE(i): angle between the FP and the quantized embedding of sample i. */
  sampleError: Float64Array;
  /** AQE(c): angle between the FP and the quantized centre of each class (the class rotation). */
  classError: Map<Identity, number>;
  /** theta_Q(i) = |AQE(i) - AQE(c_{y_i})|: the individual error RCM adds as a margin. */
  individualError: Float64Array;
  meanSampleError: number;
  meanClassError: number;
  meanIndividualError: number;
}

/** AQE(i) = AQE(c_{y_i}) + I(i), per MISSION.md: split the quantization error into class and individual parts. */
export function quantizationError(
  fullPrecision: readonly Embedding[],
  quantized: readonly Embedding[],
  labels: ArrayLike<Identity>,
): QuantizationErrorAnalysis {
  if (fullPrecision.length !== quantized.length) {
    throw new Error(`quantizationError: ${fullPrecision.length} full-precision but ${quantized.length} quantized embeddings`);
  }
  const dim = checkLabels(fullPrecision, labels, 'quantizationError');
  checkEmbeddings(quantized, 'quantizationError quantized', dim);
  const fpCentres = classCentres(fullPrecision, labels);
  const quantizedCentres = classCentres(quantized, labels);
  const classError = new Map([...fpCentres].map(([label, centre]) => [label, angleBetween(centre, quantizedCentres.get(label)!)]));
  const sampleError = Float64Array.from(fullPrecision, (f, i) => angleBetween(f, quantized[i]!));
  const individualError = sampleError.map((error, i) => Math.abs(error - classError.get(labels[i]!)!));
  return {
    sampleError,
    classError,
    individualError,
    meanSampleError: summarize(sampleError).mean,
    meanClassError: summarize([...classError.values()]).mean,
    meanIndividualError: summarize(individualError).mean,
  };
}
