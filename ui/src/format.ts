// Small formatting helpers of the dashboard.
export const formatMs = (ms: number | null | undefined) =>
  ms == null ? '—' : ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;

export const formatTime = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleTimeString() : '—');

export const formatJson = (value: unknown) => (value === undefined ? '—' : JSON.stringify(value, null, 2));
