import type { Switchboard } from '../client/index.js';
import type { OptionSpecs, ParsedArgs } from './args.js';
import { progress } from './output.js';

/**
 * Which server and token a command uses: `--address` > SWITCHBOARD_ADDR > CONSUL_HTTP_ADDR >
 * http://127.0.0.1:8500, and `--token` > SWITCHBOARD_TOKEN > CONSUL_HTTP_TOKEN, so a shell set up
 * for Consul's CLI works unchanged. An address may be `host:port` (as CONSUL_HTTP_ADDR often is)
 * or a URL.
 */

export const DEFAULT_ADDRESS = 'http://127.0.0.1:8500';

export const CLIENT_OPTIONS: OptionSpecs = {
  address: { type: 'string' },
  token: { type: 'string' },
};

export const CLIENT_OPTION_LINES = [
  `  --address <url>    server, http://host:port or host:port (env SWITCHBOARD_ADDR, CONSUL_HTTP_ADDR; default ${DEFAULT_ADDRESS})`,
  '  --token <token>    ACL token (env SWITCHBOARD_TOKEN, CONSUL_HTTP_TOKEN)',
].join('\n');

export function serverAddress(args: ParsedArgs, env: NodeJS.ProcessEnv = process.env): string {
  const address = firstSet(args.values.address, env.SWITCHBOARD_ADDR, env.CONSUL_HTTP_ADDR) ?? DEFAULT_ADDRESS;
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(address) ? address : `http://${address}`;
}

export function serverToken(args: ParsedArgs, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return firstSet(args.values.token, env.SWITCHBOARD_TOKEN, env.CONSUL_HTTP_TOKEN);
}

/**
 * A client for the command's server; the SDK's rare warnings go to stderr with the CLI's prefix.
 * The SDK (with socket.io-client) is loaded here, not at startup: it is most of a command's start
 * time, and usage errors and --help do without it.
 */
export async function connect(args: ParsedArgs): Promise<Switchboard> {
  const { Switchboard } = await import('../client/index.js');
  const token = serverToken(args);
  return new Switchboard({ address: serverAddress(args), ...(token === undefined ? {} : { token }), logger: { warn: progress } });
}

function firstSet(...values: readonly unknown[]): string | undefined {
  return values.find((value): value is string => typeof value === 'string' && value !== '');
}
