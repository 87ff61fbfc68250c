// A Prometheus histogram for hot paths: observations are counted in typed arrays found through nested
// maps of label values (no object, string or hash per observation, unlike prom-client's observe at
// ~1.5 µs), and turned into prom-client's metric shape only when scraped.
import type { Registry } from 'prom-client';

interface Series {
  labels: Record<string, string>;
  /** Counts per bucket (not cumulative); the last slot is +Inf. */
  counts: Float64Array;
  sum: number;
  count: number;
}

export interface FastHistogram {
  /** Records `value` under the label values, in the order of `labelNames` (positional: no array per call). */
  observe(value: number, first?: string, second?: string): void;
}

/** A histogram with at most two labels, registered in `registry` under `name`, exported like prom-client's own. */
export function createFastHistogram(options: {
  name: string;
  help: string;
  buckets: readonly number[];
  labelNames?: readonly string[];
  registry: Registry;
}): FastHistogram {
  const { name, help, buckets } = options;
  const labelNames = options.labelNames ?? [];
  if (labelNames.length > 2) throw new Error(`${name}: at most two labels`);
  /** first label value → second label value (or '') → series. */
  const byLabels = new Map<string, Map<string, Series>>();
  const all: Series[] = [];

  function seriesOf(first: string, second: string): Series {
    let inner = byLabels.get(first);
    if (inner === undefined) byLabels.set(first, (inner = new Map()));
    let series = inner.get(second);
    if (series === undefined) {
      const labels: Record<string, string> = {};
      if (labelNames[0] !== undefined) labels[labelNames[0]] = first;
      if (labelNames[1] !== undefined) labels[labelNames[1]] = second;
      series = { labels, counts: new Float64Array(buckets.length + 1), sum: 0, count: 0 };
      inner.set(second, series);
      all.push(series);
    }
    return series;
  }

  const metric = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    get() {
      const values: { value: number; labels: Record<string, string | number>; metricName: string }[] = [];
      for (const series of all) {
        let cumulative = 0;
        buckets.forEach((le, i) => {
          cumulative += series.counts[i]!;
          values.push({ value: cumulative, labels: { le, ...series.labels }, metricName: `${name}_bucket` });
        });
        values.push({ value: series.count, labels: { le: '+Inf', ...series.labels }, metricName: `${name}_bucket` });
        values.push({ value: series.sum, labels: series.labels, metricName: `${name}_sum` });
        values.push({ value: series.count, labels: series.labels, metricName: `${name}_count` });
      }
      return { name, help, type: 'histogram', values, aggregator: 'sum' };
    },
    reset() {
      for (const series of all) {
        series.counts.fill(0);
        series.sum = 0;
        series.count = 0;
      }
    },
  };
  // prom-client's registry takes any metric of this shape (what its own metrics' get() return).
  options.registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);

  return {
    observe(value, first = '', second = '') {
      const series = seriesOf(first, second);
      let i = 0;
      while (i < buckets.length && value > buckets[i]!) i++;
      series.counts[i]!++;
      series.sum += value;
      series.count++;
    },
  };
}
