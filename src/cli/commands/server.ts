import type { Command, CommandSpec, OptionSpecs } from '../args.js';
import { parseCommand } from '../args.js';
import { usageText } from '../usage.js';

/**
 * `server`: the server itself, as `npm start` runs it (runServer in src/server.ts), with every
 * environment variable of the configuration also a flag: PORT is --port, DATA_DIR --data-dir,
 * REDIS_URL --redis-url… A flag wins over its variable. Unknown flags are usage errors (exit 2);
 * values are validated by loadConfig, whose message lists every bad one (exit 1, as npm start).
 * The server code is loaded only here, so the client commands start without Nest.
 */

/** PORT → port, SESSION_TTL_MULTIPLIER → session-ttl-multiplier. */
export function configFlag(variable: string): string {
  return variable.toLowerCase().replaceAll('_', '-');
}

function serverSpec(variables: readonly string[]): CommandSpec {
  const options: OptionSpecs = Object.fromEntries(variables.map((variable) => [configFlag(variable), { type: 'string' }]));
  const width = Math.max(...variables.map((variable) => configFlag(variable).length)) + 8;
  const lines = variables.map((variable) => `  ${`--${configFlag(variable)} <v>`.padEnd(width)}  env ${variable}`);
  const usage = usageText(
    'server [--port 8500] [--data-dir ./data] [--redis-url redis://…] […]',
    'Runs a Switchboard server in the foreground and prints "serving on <url>" once it listens. Every setting is an environment variable (README.md, Configuration, has defaults and meanings) and also the flag below; a flag wins over its variable. An invalid value exits 1 naming every bad setting.',
    lines,
    false,
  );
  return { usage, options, positionals: { min: 0, max: 0 } };
}

export const serverCommand: Command = {
  summary: 'run a server (every setting is also a flag)',
  async run(argv) {
    const { CONFIG_VARIABLES, loadConfig } = await import('../../config/app-config.js');
    const { bootFailureMessage, runServer } = await import('../../server.js');
    const { values } = parseCommand(serverSpec(CONFIG_VARIABLES), argv);
    const env = { ...process.env };
    for (const variable of CONFIG_VARIABLES) {
      const value = values[configFlag(variable)];
      if (typeof value === 'string') env[variable] = value;
    }
    try {
      await runServer(loadConfig(env));
    } catch (error) {
      process.stderr.write(`${bootFailureMessage(error)}\n`);
      return 1;
    }
    // The server now owns the process; Nest's shutdown hooks end it on SIGTERM/SIGINT.
    return undefined;
  },
};
