import type { CommandSpec, OptionSpecs } from './args.js';
import { CLIENT_OPTION_LINES, CLIENT_OPTIONS } from './connection.js';

/**
 * A command's usage text: synopsis, what it does, its options; commands that talk to a server
 * also list --address and --token.
 */
export function usageText(synopsis: string, description: string, options: readonly string[], talksToServer = true): string {
  const optionLines = [...options, ...(talksToServer ? [CLIENT_OPTION_LINES] : []), '  -h, --help         this text'];
  return `Usage: switchboard ${synopsis}\n\n${description}\n\nOptions:\n${optionLines.join('\n')}\n`;
}

/** The spec of a command that talks to a server: its own options plus --address and --token. */
export function clientCommandSpec(
  synopsis: string,
  description: string,
  options: OptionSpecs,
  optionLines: readonly string[],
  positionals: CommandSpec['positionals'],
): CommandSpec {
  return { usage: usageText(synopsis, description, optionLines), options: { ...CLIENT_OPTIONS, ...options }, positionals };
}

export const JSON_OPTION: OptionSpecs = { json: { type: 'boolean' } };
export const JSON_OPTION_LINE = '  --json             JSON output (values in base64, Flags as a decimal string)';
