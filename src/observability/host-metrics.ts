// The per-host HTTP limits at GET /metrics: each host's adapted limit, its requests in flight and how
// often a Retry-After paused it. Read when scraped; hosts idle for a while are forgotten by the limiter,
// and at most `maxHosts` (the busiest) are listed, so the label set stays bounded.
import { Counter, Gauge, type Registry } from 'prom-client';

/** One host as the limiter reports it. */
export interface HostSample {
  host: string;
  limit: number;
  inFlight: number;
  waiting: number;
  pauses: number;
}

const defaultMaxHosts = 100;

/** Registers `braid_http_host_limit`, `braid_http_host_in_flight` and `braid_http_host_paused_total` in `registry`. */
export function registerHostMetrics(registry: Registry, hosts: () => readonly HostSample[], maxHosts = defaultMaxHosts): void {
  const registers = [registry];
  /** The busiest hosts: most requests in flight or waiting first. */
  const listed = () =>
    [...hosts()].sort((a, b) => b.inFlight + b.waiting - (a.inFlight + a.waiting) || b.pauses - a.pauses).slice(0, maxHosts);
  new Gauge({
    name: 'braid_http_host_limit',
    help: 'Requests this process lets be in flight to the host now (HTTP_HOST_CONCURRENCY, halved by 429s, raised again by successes).',
    labelNames: ['host'] as const,
    registers,
    collect() {
      this.reset();
      for (const host of listed()) this.set({ host: host.host }, host.limit);
    },
  });
  new Gauge({
    name: 'braid_http_host_in_flight',
    help: 'Requests of http nodes in flight to the host from this process now.',
    labelNames: ['host'] as const,
    registers,
    collect() {
      this.reset();
      for (const host of listed()) this.set({ host: host.host }, host.inFlight);
    },
  });
  new Counter({
    name: 'braid_http_host_paused_total',
    help: 'Times a 429 or 503 with Retry-After paused every request to the host from this process.',
    labelNames: ['host'] as const,
    registers,
    collect() {
      this.reset();
      for (const host of listed()) this.inc({ host: host.host }, host.pauses);
    },
  });
}
