#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
import { type Command, commandList, dispatch, HelpRequested, UsageError } from './args.js';
import { electCommand } from './commands/elect.js';
import { kvCommand } from './commands/kv.js';
import { lockCommand } from './commands/lock.js';
import { serverCommand } from './commands/server.js';
import { sessionCommand } from './commands/session.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, printError, writeStdout } from './output.js';

/**
 * `switchboard`, the command line: exit 0 on success, 1 on failure (one line on stderr:
 * `switchboard: <reason>`), 2 on a usage error (the reason, then the command's usage, on
 * stderr). `--help` on any command prints its usage on stdout.
 */

const COMMANDS: Readonly<Record<string, Command>> = {
  server: serverCommand,
  kv: kvCommand,
  lock: lockCommand,
  elect: electCommand,
  session: sessionCommand,
};

const USAGE = `Usage: switchboard <command> [options]

The Switchboard command line: a server, and a client of one (Consul's HTTP API plus history,
versions and rollback). "switchboard <command> --help" describes each command.

Commands:
${commandList(COMMANDS)}

Client commands reach the server at --address, else SWITCHBOARD_ADDR, else CONSUL_HTTP_ADDR, else
http://127.0.0.1:8500, with the token of --token, SWITCHBOARD_TOKEN or CONSUL_HTTP_TOKEN.
Exit codes: 0 success, 1 failure, 2 usage error. --version prints the version.
`;

async function main(argv: readonly string[]): Promise<number | undefined> {
  try {
    if (argv[0] === '--version') {
      writeStdout(`switchboard ${await packageVersion()}\n`);
      return EXIT_OK;
    }
    return await dispatch(USAGE, COMMANDS, argv);
  } catch (error) {
    if (error instanceof HelpRequested) {
      writeStdout(error.usage);
      return EXIT_OK;
    }
    if (error instanceof UsageError) {
      printError(error.message);
      process.stderr.write(`\n${error.usage}`);
      return EXIT_USAGE;
    }
    printError(error instanceof Error ? error.message : String(error));
    return EXIT_FAILURE;
  }
}

async function packageVersion(): Promise<string> {
  // src/cli/main.ts and dist/cli/main.js both sit two levels below package.json.
  const manifest = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}

void main(process.argv.slice(2)).then((code) => {
  if (code === undefined) return;
  // Exit at once, not when idle sockets (fetch keep-alive) close; stdout is flushed first.
  process.stdout.write('', () => process.exit(code));
});
