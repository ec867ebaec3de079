// Writes sample charts from synthetic embeddings, to see what the evaluation layer produces:
//   npx tsx src/eval/sample-plots.ts [out-dir]      (default runs/eval-samples, which git ignores)
// Identities are random directions in 64-D; each image adds Gaussian noise. The "models" differ only in
// their noise level, standing in for FP vs quantized networks; the numbers mean nothing beyond that.
import { join } from 'node:path';
import { barChart, histogramChart, rocChart, savePng } from './plot.ts';
import { evaluateVerification, type VerificationPair } from './verification.ts';

function seededRandom(seed: number): { uniform: () => number; normal: () => number } {
  let state = seed >>> 0;
  const uniform = () => ((state = (state * 1664525 + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  return { uniform, normal: () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()) };
}

/** 1 genuine pair in 11, spread through the list so every fold holds both kinds (as LFW's folds do). */
function syntheticPairs(noise: number, pairCount = 22000, identityCount = 400, dim = 64): VerificationPair[] {
  const { uniform, normal } = seededRandom(2020);
  const identities = Array.from({ length: identityCount }, () => Float32Array.from({ length: dim }, normal));
  const image = (id: number) => Float32Array.from(identities[id]!, (v) => v + noise * normal());
  const pick = () => Math.floor(uniform() * identityCount);
  return Array.from({ length: pairCount }, (_, i) => {
    const a = pick();
    const isSame = i % 11 === 0;
    const b = isSame ? a : (a + 1 + Math.floor(uniform() * (identityCount - 1))) % identityCount;
    return { a: image(a), b: image(b), isSame };
  });
}

const outDir = process.argv[2] ?? 'runs/eval-samples';
const models = [
  { name: 'FP', noise: 1.1 },
  { name: 'PTQ-4', noise: 1.6 },
  { name: 'QAT-4', noise: 1.35 },
  { name: 'RCM-4', noise: 1.25 },
];
const reports = models.map((m) => ({ ...m, report: evaluateVerification(syntheticPairs(m.noise)) }));
for (const { name, report } of reports) {
  const tars = report.tarAtFar.map((t) => `TAR@${t.far}=${t.tar === null ? 'n/a' : t.tar.toFixed(3)}`).join(' ');
  console.log(`${name}: acc ${report.accuracy.mean.toFixed(4)} +- ${report.accuracy.std.toFixed(4)}, AUC ${report.roc.auc.toFixed(4)}, ${tars}`);
}
savePng(
  rocChart(reports.map(({ name, report }, i) => ({ name, roc: report.roc, ...(i === 1 ? { dash: [8, 5] as const } : {}) })), {
    title: `ROC, synthetic pairs (${reports[0]!.report.impostorPairs} impostor)`,
  }),
  join(outDir, 'roc.png'),
);
const fp = reports[0]!.report;
savePng(
  histogramChart({
    title: 'Pair distances, FP',
    xLabel: 'squared distance |a-b|^2 = 2 - 2cos',
    normalize: 'fraction',
    bins: 40,
    series: [
      { name: 'genuine', values: fp.distances.filter((_, i) => fp.isSame[i]) },
      { name: 'impostor', values: fp.distances.filter((_, i) => !fp.isSame[i]) },
    ],
  }),
  join(outDir, 'distances.png'),
);
savePng(
  barChart({
    title: 'TAR at FAR by model',
    categories: fp.tarAtFar.map((t) => `FAR ${t.far}`),
    series: reports.map(({ name, report }) => ({ name, values: report.tarAtFar.map((t) => t.tar ?? 0) })),
    yLabel: 'TAR',
    yRange: [0, 1],
  }),
  join(outDir, 'tar-at-far.png'),
);
console.log(`wrote roc.png, distances.png, tar-at-far.png to ${outDir}`);
