import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeQuantization, markdownTable, writeAnalysisPlots, type QuantErrorRow } from '../src/analysis/quant-error.ts';
import { train } from '../src/train/trainer.ts';
import { lowbit, micro } from './micro.ts';

/** Unit-ish 3-D features of 4 classes; `rotate` turns each class about z, `noise` scatters samples. */
function embeddings(rotate: (c: number) => number, noise: number): { fp: Float64Array[]; q: Float64Array[]; labels: number[] } {
  const fp: Float64Array[] = [];
  const q: Float64Array[] = [];
  const labels: number[] = [];
  for (let c = 0; c < 4; c++) {
    for (let i = 0; i < 6; i++) {
      const a = (c * Math.PI) / 2 + 0.1 * Math.sin(7 * i + c);
      const z = 0.2 * Math.cos(5 * i);
      fp.push(Float64Array.of(Math.cos(a), Math.sin(a), z));
      const b = a + rotate(c) + noise * Math.sin(11 * i + 3 * c);
      q.push(Float64Array.of(Math.cos(b), Math.sin(b), z));
      labels.push(c);
    }
  }
  return { fp, q, labels };
}

describe('quantization-error analysis', () => {
  it('a rigid rotation of every class shows as class error, not as individual error', () => {
    const e = embeddings((c) => 0.1 * (c + 1), 0);
    const { row } = analyzeQuantization('rotated', e.fp, e.q, e.labels);
    expect(row.mean_class_error_deg).toBeGreaterThan(5);
    expect(row.mean_individual_error_deg).toBeLessThan(0.2);
    // Separability and compactness are untouched by a rotation within the plane... up to the per-class angle.
    expect(row.intra_class_scatter_deg.quantized).toBeCloseTo(row.intra_class_scatter_deg.fp, 3);
  });

  it('scatter without rotation shows as individual error and a larger intra-class scatter', () => {
    const e = embeddings(() => 0, 0.15);
    const { row } = analyzeQuantization('scattered', e.fp, e.q, e.labels);
    expect(row.mean_class_error_deg).toBeLessThan(row.mean_individual_error_deg);
    expect(row.intra_class_scatter_deg.quantized).toBeGreaterThan(row.intra_class_scatter_deg.fp);
    expect(row.inter_class_angle_deg.fp).toBeGreaterThan(80);
  });

  it('writes a Markdown table and the plots', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lowbit-analysis-'));
    const rows = [8, 4, 2].map((bits) => {
      const e = embeddings((c) => 0.02 * (c + 1) * (9 - bits), 0.01 * (9 - bits));
      const r = analyzeQuantization(`PTQ-${bits}`, e.fp, e.q, e.labels, bits);
      r.row.verification = { accuracy: 0.9 - 0.01 * (8 - bits), accuracy_std: 0.01, tar_at_far_1e2: null };
      return r;
    });
    const table = markdownTable(rows.map((r) => r.row));
    expect(table.split('\n')).toHaveLength(5);
    expect(table).toContain('| PTQ-2 |');
    expect(table).toContain('n/a |');
    const paths = writeAnalysisPlots(dir, rows.map((r) => r.row), rows.map((r) => r.dist));
    expect(paths.map((p) => p.slice(dir.length + 1))).toEqual(['class_error_vs_bits.png', 'intra_class_scatter_vs_bits.png', 'inter_class_angles.png', 'individual_errors.png', 'verification.png']);
    for (const p of paths) expect(existsSync(p)).toBe(true);
  });

  it('lowbit analyze sweeps PTQ at 8/6/4/3/2 bits by default and writes analysis.md, analysis.json and the plots', async () => {
    const fp = mkdtempSync(join(tmpdir(), 'lowbit-analyze-fp-'));
    await train(micro({ steps: 4 }), { outDir: fp, quiet: true, evaluate: false });
    const out = mkdtempSync(join(tmpdir(), 'lowbit-analyze-'));
    const printed = JSON.parse(lowbit(['analyze', '--checkpoint', fp, '--out', out, '--max-images', '40', '--json'])) as { rows: QuantErrorRow[]; plots: string[] };
    expect(printed.rows.map((r) => r.label)).toEqual(['FP', 'PTQ-8', 'PTQ-6', 'PTQ-4', 'PTQ-3', 'PTQ-2']);
    const byLabel = new Map(printed.rows.map((r) => [r.label, r]));
    expect(byLabel.get('FP')!.mean_aqe_deg).toBe(0);
    expect(byLabel.get('PTQ-2')!.mean_aqe_deg).toBeGreaterThan(byLabel.get('PTQ-8')!.mean_aqe_deg);
    expect((JSON.parse(readFileSync(join(out, 'analysis.json'), 'utf8')) as { rows: QuantErrorRow[] }).rows).toEqual(printed.rows);
    expect(readFileSync(join(out, 'analysis.md'), 'utf8')).toContain('| PTQ-3 |');
    for (const p of printed.plots) expect(existsSync(p), p).toBe(true);
  });
});
