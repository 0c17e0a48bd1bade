import { rm } from 'node:fs/promises';
import { runCli, startCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/server.js';

/** Usage errors exit 2 with the command's usage on stderr; --help prints it on stdout, exit 0. */
describe('switchboard usage', () => {
  const EVERY_COMMAND = [
    [],
    ['server'],
    ['kv'],
    ...['get', 'put', 'delete', 'list', 'keys', 'watch', 'history', 'versions', 'rollback', 'export', 'import'].map((sub) => ['kv', sub]),
    ['lock'],
    ['elect'],
    ['session'],
    ...['list', 'info', 'destroy'].map((sub) => ['session', sub]),
  ];

  it.each(EVERY_COMMAND)('--help on "%s %s" prints its usage on stdout and exits 0', async (...command: string[]) => {
    const result = await runCli([...command, '--help']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(new RegExp(`^Usage: switchboard ${command.join(' ')}`));
  });

  it.each([
    [['nope'], 'unknown command "nope"', 'switchboard <command>'],
    [['kv'], 'missing command', 'switchboard kv <command>'],
    [['kv', 'get'], 'missing argument', 'switchboard kv get <key>'],
    [['kv', 'get', 'a', 'b'], 'unexpected argument "b"', 'switchboard kv get <key>'],
    [['kv', 'get', 'a', '--bogus'], "Unknown option '--bogus'.", 'switchboard kv get <key>'],
    [['kv', 'put', 'a', 'b', '--cas', 'x'], '--cas must be a non-negative integer, not "x"', 'switchboard kv put'],
    [['kv', 'put', 'a', 'b', '--flags', '18446744073709551616'], '--flags must be an integer from 0 to 2^64-1', 'switchboard kv put'],
    [['kv', 'rollback', 'a', 'latest'], '<modifyIndex> must be a non-negative integer', 'switchboard kv rollback'],
    [['kv', 'watch', 'a', '--from-index', '-1'], "Option '--from-index' argument is ambiguous.", 'switchboard kv watch'],
    [['lock', 'k'], 'missing the command to run, after --', 'switchboard lock <key>'],
    [['lock', 'k', '--ttl', 'soon', '--', 'true'], '--ttl must be a duration', 'switchboard lock <key>'],
    [['lock', 'k', '--ttl', '5s', '--', 'true'], '--ttl must be from 10s to 24h', 'switchboard lock <key>'],
    [['elect', '--', 'true'], 'missing argument', 'switchboard elect <key>'],
    [['session', 'info'], 'missing argument', 'switchboard session info <id>'],
    [['server', '--prot', '1'], "Unknown option '--prot'.", 'switchboard server'],
  ])('%j exits 2 with the reason and the usage on stderr', async (args, reason, usage) => {
    // No server is needed: usage errors are found before any request.
    const result = await runCli(args, { env: { SWITCHBOARD_ADDR: 'http://127.0.0.1:1' } });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.startsWith(`switchboard: ${reason}`)).toBe(true);
    expect(result.stderr).toContain(`\n\nUsage: ${usage}`);
  });

  it('--version prints the package version', async () => {
    expect(await runCli(['--version'])).toMatchObject({ code: 0, stdout: 'switchboard 0.1.0\n' });
  });

  describe('server', () => {
    it('takes every setting as a flag and prints the "serving on" line', async () => {
      const dataDir = await tempDir('switchboard-cli-server-');
      const server = startCli(['server', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--node-name', 'from-flag', '--log-level', 'log'], {
        env: { NO_COLOR: '1', NODE_NAME: 'from-env' },
      });
      try {
        const [, url] = await server.waitForOutput(/serving on (http:\/\/\S+)/, 'stdout', 20_000);
        const self = (await (await fetch(`${url}/v1/agent/self`)).json()) as { Config: { NodeName: string } };
        expect(self.Config.NodeName).toBe('from-flag');
        server.process.kill('SIGTERM');
        await server.result();
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    });

    it('lists every bad value and exits 1', async () => {
      const result = await runCli(['server', '--port', 'x', '--session-ttl-multiplier', '99']);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^Invalid configuration:\n {2}PORT=x: .*\n {2}SESSION_TTL_MULTIPLIER=99: /);
    });
  });
});
