// lowbit bench --json: every case line carries case, median_ms and gflops (null where a case has none).
import { describe, expect, it } from 'vitest';
import { withRequiredFields } from '../src/cli/bench.ts';
import { MATMUL_SHAPES, matmulCases } from '../bench/matmul.bench.ts';

describe('lowbit bench --json', () => {
  it('fills median_ms and gflops on case lines and leaves other lines alone', () => {
    expect(JSON.parse(withRequiredFields('{"case":"quant_ratios","train_step_w4a4_lsq_over_fp":1.2}'))).toEqual({ case: 'quant_ratios', median_ms: null, gflops: null, train_step_w4a4_lsq_over_fp: 1.2 });
    expect(JSON.parse(withRequiredFields('{"case":"matmul_256","median_ms":1.5,"gflops":22.4,"samples":9}'))).toEqual({ case: 'matmul_256', median_ms: 1.5, gflops: 22.4, samples: 9 });
    expect(withRequiredFields('# matmul')).toBe('# matmul');
  });

  it('the matmul suite has the stable case ids and FLOPs 2*M*N*K', () => {
    expect(matmulCases().map((c) => c.id)).toEqual(['matmul_256', 'matmul_512', 'matmul_1024', 'matmul_1000x999x1001']);
    for (const [c, [, M, K, N]] of matmulCases().map((c, i) => [c, MATMUL_SHAPES[i]!] as const)) expect(c.flops).toBe(2 * M * N * K);
  });
});
