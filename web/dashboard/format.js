// How times, durations, token counts and costs read on the board.

export function duration(ms) {
  if (!(ms >= 0)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${(ms / 1000).toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  const hours = Math.floor(m / 60);
  return `${hours} h ${String(m % 60).padStart(2, '0')} min`;
}

export function tokens(n) {
  if (!(n >= 0)) return '0';
  if (n < 10_000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 100_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

// A usage object's cost as the daemon words it ("$0.0030"), or "cost unknown".
export function cost(usage) {
  if (!usage) return 'cost unknown';
  if (usage.cost_usd === null || usage.cost_usd === undefined) {
    return usage.priced_cost_usd > 0
      ? `cost unknown (priced part $${usage.priced_cost_usd.toFixed(4)})` : 'cost unknown';
  }
  return usage.cost || `$${Number(usage.cost_usd).toFixed(4)}`;
}

export function clock(ms) {
  if (!ms) return '—';
  const d = new Date(ms);
  return d.toLocaleString(undefined, { hour12: false });
}

export const FINAL_STATES = new Set(['completed', 'error', 'cancelled', 'interrupted']);
export const ACTIVE_STATES = new Set(['pending', 'running']);
