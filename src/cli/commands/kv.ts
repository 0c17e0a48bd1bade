import { type Command, commandList, defineCommand, dispatch, integerOption, nonNegativeInteger, type ParsedArgs, uint64Option } from '../args.js';
import { connect } from '../connection.js';
import {
  CliFailure,
  displayValue,
  entryJson,
  EXIT_OK,
  eventJson,
  eventLine,
  printJson,
  printJsonLine,
  versionJson,
  writeStdout,
} from '../output.js';
import { readStdin } from '../stdin.js';
import { clientCommandSpec as spec, JSON_OPTION, JSON_OPTION_LINE } from '../usage.js';
import { exportCommand, importCommand } from './kv-transfer.js';

function keyArgument(args: ParsedArgs): string {
  return args.positionals[0] ?? '';
}

const get = defineCommand(
  'print a key\'s value',
  spec('kv get <key> [--json]', 'Prints the value of <key> as raw bytes (no newline added); exits 1 when the key does not exist.', JSON_OPTION, [JSON_OPTION_LINE], { min: 1, max: 1 }),
  async (args) => {
    await using client = await connect(args);
    const key = keyArgument(args);
    const entry = await client.kv.get(key);
    if (entry === undefined) throw new CliFailure(`key ${JSON.stringify(key)} not found`);
    if (args.values.json === true) printJson(entryJson(entry));
    else writeStdout(entry.value);
    return EXIT_OK;
  },
);

const put = defineCommand(
  'write a key',
  spec(
    'kv put <key> [<value> | -] [--flags N] [--cas N]',
    'Writes <value> to <key>; with "-", or no value while stdin is not a terminal, the value is read from stdin. No value on a terminal writes an empty value.',
    { flags: { type: 'string' }, cas: { type: 'string' } },
    ['  --flags <n>        uint64 stored with the value (default 0)', '  --cas <index>      write only if the key\'s ModifyIndex is <index> (0: only if absent); exits 1 otherwise'],
    { min: 1, max: 2 },
  ),
  async (args, { usage }) => {
    const flags = uint64Option(args, 'flags', usage);
    const cas = integerOption(args, 'cas', usage);
    const key = keyArgument(args);
    const argument = args.positionals[1];
    const value = argument === '-' || (argument === undefined && !process.stdin.isTTY) ? await readStdin() : (argument ?? '');
    await using client = await connect(args);
    if (!(await client.kv.put(key, value, { ...(flags === undefined ? {} : { flags }), ...(cas === undefined ? {} : { cas }) }))) {
      throw new CliFailure(`check-and-set failed: ${JSON.stringify(key)} ${cas === 0 ? 'already exists' : `is not at ModifyIndex ${cas}`}`);
    }
    return EXIT_OK;
  },
);

const remove = defineCommand(
  'delete a key or a prefix',
  spec(
    'kv delete <key> [--recurse] [--cas N]',
    'Deletes <key>, or with --recurse every key under the prefix <key>. Deleting a missing key succeeds.',
    { recurse: { type: 'boolean' }, cas: { type: 'string' } },
    ['  --recurse          delete every key under the prefix', '  --cas <index>      delete only if the key\'s ModifyIndex is <index>; exits 1 otherwise'],
    { min: 1, max: 1 },
  ),
  async (args, { usage }) => {
    const cas = integerOption(args, 'cas', usage);
    const key = keyArgument(args);
    await using client = await connect(args);
    if (!(await client.kv.delete(key, { recurse: args.values.recurse === true, ...(cas === undefined ? {} : { cas }) }))) {
      throw new CliFailure(`check-and-set failed: ${JSON.stringify(key)} is not at ModifyIndex ${cas}`);
    }
    return EXIT_OK;
  },
);

const list = defineCommand(
  'print every key and value under a prefix',
  spec('kv list [<prefix>] [--json]', 'Prints "key = value" for every key under <prefix> (default: all), in key order.', JSON_OPTION, [JSON_OPTION_LINE], { min: 0, max: 1 }),
  async (args) => {
    await using client = await connect(args);
    const entries = await client.kv.list(keyArgument(args));
    if (args.values.json === true) printJson(entries.map(entryJson));
    else writeStdout(entries.map((entry) => `${entry.key} = ${displayValue(entry.value)}\n`).join(''));
    return EXIT_OK;
  },
);

const keys = defineCommand(
  'print the key names under a prefix',
  spec(
    'kv keys [<prefix>] [--separator /] [--json]',
    'Prints the key names under <prefix> (default: all), one per line; with --separator, keys past it fold into one "dir/" name.',
    { ...JSON_OPTION, separator: { type: 'string' } },
    ['  --separator <s>    fold keys past <s> into one name', JSON_OPTION_LINE],
    { min: 0, max: 1 },
  ),
  async (args) => {
    await using client = await connect(args);
    const separator = args.values.separator;
    const names = await client.kv.keys(keyArgument(args), typeof separator === 'string' ? { separator } : {});
    if (args.values.json === true) printJson(names);
    else writeStdout(names.map((name) => `${name}\n`).join(''));
    return EXIT_OK;
  },
);

const watch = defineCommand(
  'print changes as they happen',
  spec(
    'kv watch <key> [--recurse] [--from-index N] [--json]',
    'Prints one line per change to <key> (with --recurse, under the prefix) until interrupted (SIGINT, SIGTERM: exit 0): "<index> put <key> = <value>" or "<index> delete <key>". Without --from-index it follows changes made after it connects.',
    { ...JSON_OPTION, recurse: { type: 'boolean' }, 'from-index': { type: 'string' } },
    ['  --recurse          watch every key under the prefix', '  --from-index <n>   first index to print (replayed from history), e.g. a listing\'s index + 1', '  --json             one JSON event per line (NDJSON)'],
    { min: 1, max: 1 },
  ),
  async (args, { usage }) => {
    const fromIndex = integerOption(args, 'from-index', usage);
    const stop = new AbortController();
    const onSignal = (): void => stop.abort();
    process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
    await using client = await connect(args);
    try {
      for await (const event of client.watch(keyArgument(args), { recurse: args.values.recurse === true, signal: stop.signal, ...(fromIndex === undefined ? {} : { fromIndex }) })) {
        if (args.values.json === true) printJsonLine(eventJson(event));
        else writeStdout(`${eventLine(event)}\n`);
      }
    } catch (error) {
      if (!stop.signal.aborted) throw error;
    }
    return EXIT_OK;
  },
);

const history = defineCommand(
  'print retained changes',
  spec(
    'kv history <key> [--recurse] [--index N] [--json]',
    'Prints the retained changes to <key> (with --recurse, under the prefix) after index N (default: all retained), one per line. Exits 1 when history after N is no longer retained.',
    { ...JSON_OPTION, recurse: { type: 'boolean' }, index: { type: 'string' } },
    ['  --recurse          changes under the prefix', '  --index <n>        only changes after index <n>', '  --json             {"Index", "Events": [...]} as /v1/history answers'],
    { min: 1, max: 1 },
  ),
  async (args, { usage }) => {
    const index = integerOption(args, 'index', usage);
    await using client = await connect(args);
    const page = await client.history(keyArgument(args), { recurse: args.values.recurse === true, ...(index === undefined ? {} : { index }) });
    if (args.values.json === true) printJson({ Index: page.index, Events: page.events.map(eventJson) });
    else writeStdout(page.events.map((event) => `${eventLine(event)}\n`).join(''));
    return EXIT_OK;
  },
);

const versions = defineCommand(
  'print the retained versions of a key',
  spec('kv versions <key> [--json]', 'Prints the retained versions of <key>, newest first: "<modifyIndex> <value>".', JSON_OPTION, [JSON_OPTION_LINE], { min: 1, max: 1 }),
  async (args) => {
    await using client = await connect(args);
    const retained = await client.versions(keyArgument(args));
    if (args.values.json === true) printJson(retained.map(versionJson));
    else writeStdout(retained.map((version) => `${version.modifyIndex} ${displayValue(version.value)}\n`).join(''));
    return EXIT_OK;
  },
);

const rollback = defineCommand(
  'write a retained version back as the newest',
  spec(
    'kv rollback <key> <modifyIndex> [--cas N]',
    'Writes the version of <key> whose ModifyIndex was <modifyIndex> back as a new version.',
    { cas: { type: 'string' } },
    ['  --cas <index>      only if the key\'s ModifyIndex is still <index>; exits 1 otherwise'],
    { min: 2, max: 2 },
  ),
  async (args, { usage }) => {
    const cas = integerOption(args, 'cas', usage);
    const key = keyArgument(args);
    const modifyIndex = nonNegativeInteger(args.positionals[1] ?? '', '<modifyIndex>', usage);
    await using client = await connect(args);
    if (!(await client.rollback(key, modifyIndex, cas === undefined ? {} : { cas }))) {
      throw new CliFailure(`check-and-set failed: ${JSON.stringify(key)} is not at ModifyIndex ${cas}`);
    }
    return EXIT_OK;
  },
);

const KV_COMMANDS: Readonly<Record<string, Command>> = {
  get,
  put,
  delete: remove,
  list,
  keys,
  watch,
  history,
  versions,
  rollback,
  export: exportCommand,
  import: importCommand,
};

const KV_USAGE = `Usage: switchboard kv <command> [options]

Reads and writes keys. "switchboard kv <command> --help" describes each command.

Commands:
${commandList(KV_COMMANDS)}
`;

export const kvCommand: Command = {
  summary: 'read, write, watch, export and import keys',
  run: (argv) => dispatch(KV_USAGE, KV_COMMANDS, argv),
};
