// lowbit bench --json: every case line carries case, median_ms and gflops (null where a case has none).
import { describe, expect, it } from 'vitest';
import { withRequiredFields } from '../src/cli/bench.ts';
import { medianWithCi } from '../bench/lib.ts';
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

describe('medianWithCi (paired benchmark ratios)', () => {
  // shuffled so that the function must sort: values 1..n
  const values = (n: number): number[] => Array.from({ length: n }, (_, i) => ((i * 7) % n) + 1);

  it('bounds the median by the order statistics of Binomial(n, 1/2) at 95%', () => {
    // n = 6: P(B = 0) = 1/64 <= 0.025 < P(B <= 1), so the extremes; n = 30: P(B <= 9) = 0.021, P(B <= 10) = 0.049
    expect(medianWithCi(values(6))).toEqual({ median: 3.5, low: 1, high: 6 });
    expect(medianWithCi(values(30))).toEqual({ median: 15.5, low: 10, high: 21 });
    expect(medianWithCi([5, 1, 4, 2, 3, 9, 7])).toMatchObject({ median: 4, low: 1, high: 9 });
  });

  it('refuses fewer than 6 values, for which no interval reaches 95%', () => {
    expect(() => medianWithCi([1, 2, 3, 4, 5])).toThrow(/at least 6 values, got 5/);
  });
});
