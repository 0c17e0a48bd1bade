import type { SessionInfo } from '../../client/index.js';
import { type Command, commandList, defineCommand, dispatch } from '../args.js';
import { connect } from '../connection.js';
import { CliFailure, EXIT_OK, printJson, sessionJson, writeStdout } from '../output.js';
import { clientCommandSpec, JSON_OPTION, JSON_OPTION_LINE } from '../usage.js';

const list = defineCommand(
  'list the sessions',
  clientCommandSpec('session list [--json]', 'Prints every session, one per line: id, name, node, TTL, behavior.', JSON_OPTION, [JSON_OPTION_LINE], { min: 0, max: 0 }),
  async (args) => {
    await using client = await connect(args);
    const sessions = await client.sessions.list();
    if (args.values.json === true) printJson(sessions.map(sessionJson));
    else writeStdout(sessions.map((session) => `${sessionLine(session)}\n`).join(''));
    return EXIT_OK;
  },
);

const info = defineCommand(
  'describe a session',
  clientCommandSpec('session info <id> [--json]', 'Describes the session <id>; exits 1 when it does not exist.', JSON_OPTION, [JSON_OPTION_LINE], { min: 1, max: 1 }),
  async (args) => {
    const id = args.positionals[0] ?? '';
    await using client = await connect(args);
    const session = await client.sessions.info(id);
    if (session === undefined) throw new CliFailure(`session ${JSON.stringify(id)} not found`);
    if (args.values.json === true) printJson(sessionJson(session));
    else {
      writeStdout(
        [
          `ID:          ${session.id}`,
          `Name:        ${session.name}`,
          `Node:        ${session.node}`,
          `TTL:         ${session.ttl || '(none)'}`,
          `LockDelay:   ${session.lockDelayMs}ms`,
          `Behavior:    ${session.behavior}`,
          `CreateIndex: ${session.createIndex}`,
          '',
        ].join('\n'),
      );
    }
    return EXIT_OK;
  },
);

const destroy = defineCommand(
  'end a session, releasing (or deleting) its keys',
  clientCommandSpec('session destroy <id>', 'Ends the session <id>: the keys it holds are released or deleted, per its behavior. Ending a missing session succeeds.', {}, [], { min: 1, max: 1 }),
  async (args) => {
    await using client = await connect(args);
    await client.sessions.destroy(args.positionals[0] ?? '');
    return EXIT_OK;
  },
);

function sessionLine(session: SessionInfo): string {
  return [session.id, session.name || '-', session.node, session.ttl || '-', session.behavior].join('\t');
}

const SESSION_COMMANDS: Readonly<Record<string, Command>> = { list, info, destroy };

const SESSION_USAGE = `Usage: switchboard session <command> [options]

Lists, describes and ends sessions (the leases behind locks).

Commands:
${commandList(SESSION_COMMANDS)}
`;

export const sessionCommand: Command = {
  summary: 'list, describe and destroy sessions',
  run: (argv) => dispatch(SESSION_USAGE, SESSION_COMMANDS, argv),
};
