// Small helpers shared by the benchmarks: medians, formatting, a markdown table.

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export const fmt = (n: number, digits = 1) => n.toFixed(digits);

/** Prints rows as a markdown table (copied as is into BENCHMARKS.md). */
export function table(headers: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Whether this is the CI smoke run: small sizes, few repetitions, no targets enforced. */
export const smoke = process.env.BENCH_SMOKE === '1';

/** PASS or MISS against a target; in smoke mode no verdict ("—"). */
export const verdict = (met: boolean) => (smoke ? '—' : met ? 'PASS' : 'MISS');

/** Waits `ms` (for pacing samplers, never for correctness). */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
