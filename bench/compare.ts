// Our kernels against a peer's, measured in the same run: `lowbit bench --vs tfjs [suite] [--json]`.
import { formatResult, measure, type BenchCase, type BenchOptions } from './lib.ts';
import { MATMUL_SHAPES, matmulCases } from './matmul.bench.ts';
import { tfjsMatmul } from './peers/tfjs.ts';
import { gpu } from '../src/gpu/device.ts';

export interface PeerPair {
  suite: string;
  id: string;
  ours: BenchCase;
  tfjs: BenchCase;
}

export interface Comparison {
  case: string;
  ours_gflops: number;
  tfjs_gflops: number;
  /** ours / tfjs: above 1 means we are faster. */
  ratio: number;
  ours_median_ms: number;
  tfjs_median_ms: number;
}

function matmulPairs(): PeerPair[] {
  const ours = matmulCases();
  return MATMUL_SHAPES.map(([id, M, K, N], i) => ({ suite: 'matmul', id, ours: ours[i]!, tfjs: tfjsMatmul(id, M, K, N) }));
}

/** Every comparable case, by suite. Suites register their pairs here as they land. */
export const PEER_PAIRS: Record<string, () => PeerPair[]> = {
  matmul: matmulPairs,
};

export async function compareWithTfjs(suites: string[], opts: BenchOptions = {}): Promise<Comparison[]> {
  const out: Comparison[] = [];
  for (const suite of suites) {
    for (const pair of PEER_PAIRS[suite]?.() ?? []) {
      const ours = await measure(pair.ours, opts);
      const theirs = await measure(pair.tfjs, opts);
      gpu().pool.trim();
      const c: Comparison = {
        case: pair.id,
        ours_gflops: ours.gflops ?? 0,
        tfjs_gflops: theirs.gflops ?? 0,
        ratio: (ours.gflops ?? 0) / (theirs.gflops ?? 1),
        ours_median_ms: ours.median_ms,
        tfjs_median_ms: theirs.median_ms,
      };
      out.push(c);
      if (opts.json) console.log(JSON.stringify(c));
      else console.log(`${formatResult(ours)}\n${formatResult(theirs)}\n${''.padEnd(34)} ratio ours/tfjs ${c.ratio.toFixed(2)}x`);
    }
  }
  return out;
}
