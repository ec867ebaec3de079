// The paper's quantization-error analysis on embeddings: for a full-precision model and a quantized
// one on the same images, the mean per-sample angular error (AQE), the class error (rotation of each
// class centre), the individual error, the angles between class centres (separability) and the
// intra-class scatter (compactness), FP and quantized. Plus the Markdown table and the plots that let a
// reader check the paper's three observations at a glance.
import { join } from 'node:path';
import { classCentres, interClassCentreAngles, intraClassScatter, quantizationError, toDegrees } from '../eval/angles.ts';
import type { Embedding } from '../eval/embeddings.ts';
import { barChart, histogramChart, lineChart, savePng } from '../eval/plot.ts';

export interface VerificationFigures {
  accuracy: number;
  accuracy_std: number;
  tar_at_far_1e2: number | null;
}

export interface QuantErrorRow {
  /** e.g. 'PTQ-4', 'QAT-4', 'RCM-4'. */
  label: string;
  /** Bit width (weights and activations), when the row is one of a sweep. */
  bits?: number;
  mean_aqe_deg: number;
  mean_class_error_deg: number;
  mean_individual_error_deg: number;
  inter_class_angle_deg: { fp: number; quantized: number };
  intra_class_scatter_deg: { fp: number; quantized: number };
  verification?: VerificationFigures;
}

/** The raw distributions behind a row, for the plots. */
export interface QuantErrorDistributions {
  individualErrorDeg: Float64Array;
  interClassDeg: { fp: Float64Array; quantized: Float64Array };
}

const toDeg = (values: Float64Array): Float64Array => values.map(toDegrees);
const mean = (values: ArrayLike<number>): number => Array.from(values).reduce((a, b) => a + b, 0) / Math.max(values.length, 1);

export function analyzeQuantization(label: string, fp: readonly Embedding[], quantized: readonly Embedding[], labels: ArrayLike<number>, bits?: number): { row: QuantErrorRow; dist: QuantErrorDistributions } {
  const errors = quantizationError(fp, quantized, labels);
  const interFp = interClassCentreAngles(classCentres(fp, labels)).angles;
  const interQ = interClassCentreAngles(classCentres(quantized, labels)).angles;
  const row: QuantErrorRow = {
    label,
    ...(bits !== undefined && { bits }),
    mean_aqe_deg: toDegrees(errors.meanSampleError),
    mean_class_error_deg: toDegrees(errors.meanClassError),
    mean_individual_error_deg: toDegrees(errors.meanIndividualError),
    inter_class_angle_deg: { fp: toDegrees(mean(interFp)), quantized: toDegrees(mean(interQ)) },
    intra_class_scatter_deg: { fp: toDegrees(intraClassScatter(fp, labels).meanAngle), quantized: toDegrees(intraClassScatter(quantized, labels).meanAngle) },
  };
  return { row, dist: { individualErrorDeg: toDeg(errors.individualError), interClassDeg: { fp: toDeg(interFp), quantized: toDeg(interQ) } } };
}

const f = (v: number | null | undefined, digits = 2): string => (v === null || v === undefined ? 'n/a' : v.toFixed(digits));

export function markdownTable(rows: readonly QuantErrorRow[]): string {
  const header = '| model | AQE (°) | class error (°) | individual error (°) | inter-class angle FP / Q (°) | intra-class scatter FP / Q (°) | verification acc | TAR@FAR=1e-2 |';
  const rule = '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |';
  const lines = rows.map((r) =>
    `| ${r.label} | ${f(r.mean_aqe_deg)} | ${f(r.mean_class_error_deg)} | ${f(r.mean_individual_error_deg)} | ${f(r.inter_class_angle_deg.fp, 1)} / ${f(r.inter_class_angle_deg.quantized, 1)} | ${f(r.intra_class_scatter_deg.fp)} / ${f(r.intra_class_scatter_deg.quantized)} | ${r.verification ? `${f(r.verification.accuracy, 4)} ± ${f(r.verification.accuracy_std, 4)}` : 'n/a'} | ${f(r.verification?.tar_at_far_1e2, 4)} |`);
  return [header, rule, ...lines].join('\n');
}

/**
 * Writes the four plots: class error vs bits, intra-class scatter vs bits (FP as a flat reference),
 * the distribution of inter-class centre angles (FP vs the lowest bit width), and histograms of the
 * individual errors. Returns the file paths.
 */
export function writeAnalysisPlots(outDir: string, rows: readonly QuantErrorRow[], dists: readonly QuantErrorDistributions[]): string[] {
  const paths: string[] = [];
  const sweep = rows.map((r, i) => ({ r, d: dists[i]! })).filter(({ r }) => r.bits !== undefined).sort((a, b) => a.r.bits! - b.r.bits!);
  if (sweep.length > 0) {
    const bits = sweep.map(({ r }) => r.bits!);
    const xAxis = { min: Math.min(...bits) - 0.5, max: Math.max(...bits) + 0.5, label: 'bits (weights and activations)' };
    const maxErr = Math.max(...sweep.map(({ r }) => Math.max(r.mean_aqe_deg, r.mean_class_error_deg, r.mean_individual_error_deg)), 1e-3);
    paths.push(join(outDir, 'class_error_vs_bits.png'));
    savePng(lineChart({
      title: 'Quantization error vs bit width (PTQ)',
      x: xAxis,
      y: { min: 0, max: maxErr * 1.1, label: 'mean angle (degrees)' },
      series: [
        { name: 'AQE (sample)', points: sweep.map(({ r }) => [r.bits!, r.mean_aqe_deg] as const) },
        { name: 'class error', points: sweep.map(({ r }) => [r.bits!, r.mean_class_error_deg] as const) },
        { name: 'individual error', points: sweep.map(({ r }) => [r.bits!, r.mean_individual_error_deg] as const), dash: [6, 4] },
      ],
    }), paths[paths.length - 1]!);
    const scatterMax = Math.max(...sweep.map(({ r }) => Math.max(r.intra_class_scatter_deg.fp, r.intra_class_scatter_deg.quantized))) * 1.15;
    paths.push(join(outDir, 'intra_class_scatter_vs_bits.png'));
    savePng(lineChart({
      title: 'Intra-class scatter vs bit width',
      x: xAxis,
      y: { min: 0, max: scatterMax, label: 'mean angle to class centre (degrees)' },
      series: [
        { name: 'quantized', points: sweep.map(({ r }) => [r.bits!, r.intra_class_scatter_deg.quantized] as const) },
        { name: 'full precision', points: sweep.map(({ r }) => [r.bits!, r.intra_class_scatter_deg.fp] as const), dash: [6, 4] },
      ],
    }), paths[paths.length - 1]!);
    const lowest = sweep[0]!;
    paths.push(join(outDir, 'inter_class_angles.png'));
    savePng(histogramChart({
      title: `Angles between class centres: FP vs ${lowest.r.label}`,
      series: [
        { name: 'full precision', values: lowest.d.interClassDeg.fp },
        { name: lowest.r.label, values: lowest.d.interClassDeg.quantized },
      ],
      bins: 36,
      normalize: 'fraction',
      xLabel: 'angle (degrees)',
      yLabel: 'fraction of class pairs',
    }), paths[paths.length - 1]!);
  }
  paths.push(join(outDir, 'individual_errors.png'));
  savePng(histogramChart({
    title: 'Individual errors |AQE(i) - AQE(c_y)|',
    series: rows.map((r, i) => ({ name: r.label, values: dists[i]!.individualErrorDeg })),
    bins: 30,
    normalize: 'fraction',
    xLabel: 'individual error (degrees)',
    yLabel: 'fraction of samples',
  }), paths[paths.length - 1]!);
  const withVerification = rows.filter((r) => r.verification);
  if (withVerification.length > 0) {
    paths.push(join(outDir, 'verification.png'));
    savePng(barChart({
      title: 'Verification accuracy on unseen identities',
      categories: withVerification.map((r) => r.label),
      series: [{ name: 'accuracy', values: withVerification.map((r) => r.verification!.accuracy) }],
      yRange: [Math.max(0, Math.min(...withVerification.map((r) => r.verification!.accuracy)) - 0.1), 1],
      yLabel: 'accuracy',
    }), paths[paths.length - 1]!);
  }
  return paths;
}
