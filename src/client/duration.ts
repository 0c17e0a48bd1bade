const UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Milliseconds in a Go duration (`15s`, `1m30s`, `0.5s`), the form Consul takes session TTLs and
 * lock-delays in; the SDK needs it to renew a session at TTL/2.
 */
export function durationMs(duration: string): number {
  if (duration === '0' || duration === '') return 0;
  const groups = /^(?:\d+(?:\.\d*)?(?:ns|us|µs|ms|s|m|h))+$/.test(duration) ? duration.match(/\d+(?:\.\d*)?(?:ns|us|µs|ms|s|m|h)/g) : null;
  if (groups === null) throw new TypeError(`not a Go duration: ${JSON.stringify(duration)} (write e.g. "15s")`);
  return groups.reduce((total, group) => {
    const [, amount, unit] = /^([\d.]+)(.+)$/.exec(group) ?? [];
    return total + Number(amount) * (UNIT_MS[unit ?? ''] ?? 0);
  }, 0);
}
