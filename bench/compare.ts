// Our kernels against a peer's, measured in the same run: `lowbit bench --vs tfjs [suite] [--json]`.
import { formatResult, measure, type BenchCase, type BenchOptions } from './lib.ts';
import { MATMUL_SHAPES, matmulCases } from './matmul.bench.ts';
import { CONV_SHAPES, convCases } from './conv.bench.ts';
import { tfjsConv, tfjsMatmul } from './peers/tfjs.ts';
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

/** Forward, dX and dW of each ResNet conv shape; tfjs runs them in NHWC, its native layout. */
function convPairs(): PeerPair[] {
  const ours = new Map(convCases().map((c) => [c.id, c]));
  return CONV_SHAPES.flatMap((s) => {
    const shape = { N: s.x[0], C: s.x[1], H: s.x[2], W: s.x[3], O: s.w[0], k: s.w[2], stride: s.stride, pad: s.padding };
    return (['fwd', 'dx', 'dw'] as const).map((pass) => {
      const id = `conv_${pass}_${s.id}`;
      return { suite: 'conv', id, ours: ours.get(id)!, tfjs: tfjsConv(id, shape, pass) };
    });
  });
}

/** Every comparable case, by suite. */
export const PEER_PAIRS: Record<string, () => PeerPair[]> = {
  matmul: matmulPairs,
  conv: convPairs,
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
      const backwardPair = pair.id.startsWith('conv_dw_') ? out.find((o) => o.case === pair.id.replace('conv_dw_', 'conv_dx_')) : undefined;
      if (backwardPair) {
        const combined = combineBackward(pair.id.replace('conv_dw_', 'conv_bwd_'), backwardPair, c);
        out.push(combined);
        console.log(opts.json ? JSON.stringify(combined) : `${combined.case.padEnd(34)} dX + dW: ours ${combined.ours_gflops.toFixed(2)} GFLOP/s, tfjs ${combined.tfjs_gflops.toFixed(2)}, ratio ${combined.ratio.toFixed(2)}x`);
      }
    }
  }
  return out;
}

/** The backward pass of a conv as one figure: dX and dW FLOPs over their summed times. */
function combineBackward(id: string, dx: Comparison, dw: Comparison): Comparison {
  const flops = dx.ours_gflops * dx.ours_median_ms + dw.ours_gflops * dw.ours_median_ms; // GFLOP/s * ms = MFLOP
  const ours = flops / (dx.ours_median_ms + dw.ours_median_ms);
  const theirs = flops / (dx.tfjs_median_ms + dw.tfjs_median_ms);
  return { case: id, ours_gflops: ours, tfjs_gflops: theirs, ratio: ours / theirs, ours_median_ms: dx.ours_median_ms + dw.ours_median_ms, tfjs_median_ms: dx.tfjs_median_ms + dw.tfjs_median_ms };
}
