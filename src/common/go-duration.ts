/**
 * Go's time.ParseDuration, which Consul uses for `wait`, session TTL and lock-delay strings:
 * an optional sign, then one or more `<decimal><unit>` groups (`1h30m`, `9.87s`, `60000ms`,
 * `0.001s`), units ns, us, µs (U+00B5 or U+03BC), ms, s, m, h; the bare string `0` is valid and
 * any other unit-less number is not. Returns milliseconds (fractional) or undefined.
 */
const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  'μs': 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const GROUP = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

export function parseGoDuration(text: string): number | undefined {
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest.startsWith('-')) sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  let total = 0;
  GROUP.lastIndex = 0;
  while (GROUP.lastIndex < rest.length) {
    const match = GROUP.exec(rest);
    if (!match) return undefined;
    total += Number(match[1]) * (UNIT_MS[match[2] as string] as number);
  }
  return sign * total;
}

const GROUP_SHAPE = /(\d*)(\.\d*)?([^\d.]*)/y;

/**
 * The error Go's time.ParseDuration gives for `text`, which parseGoDuration rejected; Consul puts
 * it in its answers (`Request decode failed: time: missing unit in duration "5"`, API.md §6.7).
 */
export function goDurationError(text: string): string {
  const quoted = JSON.stringify(text);
  const rest = text.replace(/^[-+]/, '');
  if (rest === '') return `time: invalid duration ${quoted}`;
  GROUP_SHAPE.lastIndex = 0;
  while (GROUP_SHAPE.lastIndex < rest.length) {
    const [, whole, fraction = '', unit = ''] = GROUP_SHAPE.exec(rest) as RegExpExecArray;
    if (whole === '' && fraction.length <= 1) break;
    if (unit === '') return `time: missing unit in duration ${quoted}`;
    if (!Object.hasOwn(UNIT_MS, unit)) return `time: unknown unit ${JSON.stringify(unit)} in duration ${quoted}`;
  }
  return `time: invalid duration ${quoted}`;
}
