import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * Argument parsing on node:util parseArgs. Every command declares its options and how many
 * positionals it takes; anything else is a UsageError (exit 2, usage on stderr), and `--help`
 * / `-h` is a HelpRequested (usage on stdout, exit 0).
 */

export type OptionSpecs = NonNullable<ParseArgsConfig['options']>;
export type OptionValues = Record<string, string | boolean | undefined>;

/** A command: its one-line summary for the group's usage, and what runs it on its arguments. */
export interface Command {
  readonly summary: string;
  /** The exit code, or undefined when the command keeps the process running (the server). */
  run(argv: readonly string[]): Promise<number | undefined>;
}

export interface CommandSpec {
  readonly usage: string;
  readonly options: OptionSpecs;
  /** Required positionals first; `max` Infinity for a variable tail. */
  readonly positionals: { readonly min: number; readonly max: number };
}

export interface ParsedArgs {
  readonly values: OptionValues;
  readonly positionals: readonly string[];
}

/** The command line does not follow the command's grammar. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** `--help` / `-h`: not an error, but it ends the command the same way. */
export class HelpRequested extends Error {
  constructor(readonly usage: string) {
    super('help requested');
    this.name = 'HelpRequested';
  }
}

export function parseCommand(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  let parsed: ParsedArgs;
  try {
    const result = parseArgs({ args: [...argv], options: { ...spec.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    parsed = { values: result.values, positionals: result.positionals };
  } catch (error) {
    // parseArgs explains itself ("Unknown option '--x'. To specify…"); keep its first sentence.
    throw new UsageError(firstSentence(error instanceof Error ? error.message : String(error)), spec.usage);
  }
  if (parsed.values.help === true) throw new HelpRequested(spec.usage);
  const count = parsed.positionals.length;
  if (count < spec.positionals.min) throw new UsageError('missing argument', spec.usage);
  if (count > spec.positionals.max) throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[spec.positionals.max])}`, spec.usage);
  return parsed;
}

/** Runs the subcommand named by argv[0] of a group (`kv get …`), or explains the group. */
export async function dispatch(groupUsage: string, commands: Readonly<Record<string, Command>>, argv: readonly string[]): Promise<number | undefined> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h') throw new HelpRequested(groupUsage);
  if (name === undefined) throw new UsageError('missing command', groupUsage);
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (command === undefined) throw new UsageError(`unknown command ${JSON.stringify(name)}`, groupUsage);
  return command.run(rest);
}

/** The commands of a group, one per line with its summary, for the group's usage text. */
export function commandList(commands: Readonly<Record<string, Command>>): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  return Object.entries(commands)
    .map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`)
    .join('\n');
}

/** A non-negative safe integer option (an index, a cas); undefined when absent. */
export function integerOption(args: ParsedArgs, name: string, usage: string): number | undefined {
  const value = args.values[name];
  return typeof value === 'string' ? nonNegativeInteger(value, `--${name}`, usage) : undefined;
}

export function nonNegativeInteger(text: string, what: string, usage: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) throw new UsageError(`${what} must be a non-negative integer, not ${JSON.stringify(text)}`, usage);
  return value;
}

/** A uint64 (Consul's flags), exactly. */
export function uint64Option(args: ParsedArgs, name: string, usage: string): bigint | undefined {
  const value = args.values[name];
  if (typeof value !== 'string') return undefined;
  if (!/^\d+$/.test(value) || BigInt(value) >= 2n ** 64n) throw new UsageError(`--${name} must be an integer from 0 to 2^64-1, not ${JSON.stringify(value)}`, usage);
  return BigInt(value);
}

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A Go duration (`15s`, `1m30s`, `500ms`) — the form the server takes TTLs and lock-delays in —
 * returned as the text (what the server is sent) and in milliseconds (what the CLI waits).
 */
export function durationOption(args: ParsedArgs, name: string, fallback: string, usage: string): { readonly text: string; readonly ms: number } {
  const value = args.values[name];
  const text = typeof value === 'string' ? value : fallback;
  const parts = /^(\d+(\.\d+)?(ms|s|m|h))+$/.test(text) ? text.match(/\d+(?:\.\d+)?(?:ms|s|m|h)/g) : null;
  if (parts === null) throw new UsageError(`--${name} must be a duration such as 15s, 1m30s or 500ms, not ${JSON.stringify(text)}`, usage);
  const ms = parts.reduce((total, part) => {
    const [, amount = '0', unit = 'ms'] = /^([\d.]+)(ms|s|m|h)$/.exec(part) ?? [];
    return total + Number(amount) * (UNIT_MS[unit] ?? 0);
  }, 0);
  return { text, ms };
}

function firstSentence(message: string): string {
  const end = message.search(/\.\s/);
  return end === -1 ? message : message.slice(0, end + 1);
}

/** A command whose whole argv follows its spec: parsed first, then handed to `handler`. */
export function defineCommand(summary: string, spec: CommandSpec, handler: (args: ParsedArgs, spec: CommandSpec) => Promise<number>): Command {
  return { summary, run: (argv) => handler(parseCommand(spec, argv), spec) };
}
