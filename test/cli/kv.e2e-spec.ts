import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runCli, startCli } from '../helpers/cli.js';
import { type InProcessServer, startServer } from '../helpers/server.js';

/** `switchboard kv …` and `session …` against a real server; needs `npm run build` (dist/cli). */
describe('switchboard kv and session commands', () => {
  let server: InProcessServer;
  let env: Record<string, string>;
  const cli = (...args: string[]) => runCli(args, { env });
  const http = (method: string, path: string, body?: string) => fetch(`${server.url}${path}`, { method, ...(body === undefined ? {} : { body }) });

  beforeAll(async () => {
    server = await startServer();
    env = { SWITCHBOARD_ADDR: server.url };
  });
  afterAll(() => server.close());

  it('put then get prints the raw bytes, with no newline added', async () => {
    expect(await cli('kv', 'put', 'app/greeting', 'hello world')).toMatchObject({ code: 0, stdout: '', stderr: '' });
    const got = await cli('kv', 'get', 'app/greeting');
    expect(got).toMatchObject({ code: 0, stderr: '' });
    expect(got.stdoutBytes).toEqual(Buffer.from('hello world'));
  });

  it('put reads binary values from stdin, and get --json shows the entry as Consul does with Flags as a string', async () => {
    const bytes = Buffer.from([0, 1, 2, 0xff, 0x0a]);
    expect((await runCli(['kv', 'put', 'app/blob', '--flags', '18446744073709551615'], { env, input: bytes })).code).toBe(0);
    expect((await cli('kv', 'get', 'app/blob')).stdoutBytes).toEqual(bytes);
    const entry = JSON.parse((await cli('kv', 'get', 'app/blob', '--json')).stdout);
    expect(entry).toEqual({
      LockIndex: 0,
      Key: 'app/blob',
      Flags: '18446744073709551615',
      Value: bytes.toString('base64'),
      CreateIndex: expect.any(Number),
      ModifyIndex: expect.any(Number),
    });
  });

  it('a missing key exits 1 with one line on stderr', async () => {
    expect(await cli('kv', 'get', 'app/missing')).toEqual(expect.objectContaining({ code: 1, stdout: '', stderr: 'switchboard: key "app/missing" not found\n' }));
  });

  it('put --cas writes only at the given index and exits 1 otherwise', async () => {
    expect((await cli('kv', 'put', 'app/cas', 'one', '--cas', '0')).code).toBe(0);
    const { ModifyIndex } = JSON.parse((await cli('kv', 'get', 'app/cas', '--json')).stdout);
    const refused = await cli('kv', 'put', 'app/cas', 'two', '--cas', String(ModifyIndex + 1000));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^switchboard: check-and-set failed: "app\/cas" is not at ModifyIndex \d+\n$/);
    expect((await cli('kv', 'put', 'app/cas', 'two', '--cas', String(ModifyIndex))).code).toBe(0);
    expect((await cli('kv', 'get', 'app/cas')).stdout).toBe('two');
  });

  it('list and keys print a prefix, as text and as JSON', async () => {
    await cli('kv', 'put', 'tree/a', '1');
    await cli('kv', 'put', 'tree/b/c', 'line\nbreak');
    expect((await cli('kv', 'list', 'tree/')).stdout).toBe('tree/a = 1\ntree/b/c = "line\\nbreak"\n');
    const listed = JSON.parse((await cli('kv', 'list', 'tree/', '--json')).stdout);
    expect(listed.map((entry: { Key: string; Value: string }) => [entry.Key, Buffer.from(entry.Value, 'base64').toString()])).toEqual([
      ['tree/a', '1'],
      ['tree/b/c', 'line\nbreak'],
    ]);
    expect((await cli('kv', 'keys', 'tree/')).stdout).toBe('tree/a\ntree/b/c\n');
    expect(JSON.parse((await cli('kv', 'keys', 'tree/', '--separator', '/', '--json')).stdout)).toEqual(['tree/a', 'tree/b/']);
  });

  it('delete removes a key, a prefix with --recurse, and exits 1 when --cas does not hold', async () => {
    await cli('kv', 'put', 'gone/a', '1');
    await cli('kv', 'put', 'gone/b', '2');
    const { ModifyIndex } = JSON.parse((await cli('kv', 'get', 'gone/a', '--json')).stdout);
    expect((await cli('kv', 'delete', 'gone/a', '--cas', String(ModifyIndex + 1000))).code).toBe(1);
    expect((await cli('kv', 'delete', 'gone/a')).code).toBe(0);
    expect((await cli('kv', 'keys', 'gone/')).stdout).toBe('gone/b\n');
    expect((await cli('kv', 'delete', 'gone/', '--recurse')).code).toBe(0);
    expect((await cli('kv', 'keys', 'gone/')).stdout).toBe('');
  });

  it('history, versions and rollback', async () => {
    await cli('kv', 'put', 'hist/k', 'v1');
    const first = JSON.parse((await cli('kv', 'get', 'hist/k', '--json')).stdout).ModifyIndex as number;
    await cli('kv', 'put', 'hist/k', 'v2');
    await cli('kv', 'delete', 'hist/k');
    const history = await cli('kv', 'history', 'hist/', '--recurse');
    expect(history.stdout).toMatch(new RegExp(`^${first} put hist/k = v1\n\\d+ put hist/k = v2\n\\d+ delete hist/k\n$`));
    const after = JSON.parse((await cli('kv', 'history', 'hist/k', '--index', String(first), '--json')).stdout);
    expect(after.Events.map((event: { Type: string }) => event.Type)).toEqual(['put', 'delete']);
    expect(after.Index).toBeGreaterThan(first);

    await cli('kv', 'put', 'ver/k', 'one');
    const one = JSON.parse((await cli('kv', 'get', 'ver/k', '--json')).stdout).ModifyIndex as number;
    await cli('kv', 'put', 'ver/k', 'two');
    expect((await cli('kv', 'versions', 'ver/k')).stdout).toMatch(new RegExp(`^\\d+ two\n${one} one\n$`));
    expect((await cli('kv', 'rollback', 'ver/k', String(one))).code).toBe(0);
    expect((await cli('kv', 'get', 'ver/k')).stdout).toBe('one');
    expect((await cli('kv', 'rollback', 'ver/k', String(one), '--cas', '1')).code).toBe(1);
    expect(JSON.parse((await cli('kv', 'versions', 'ver/k', '--json')).stdout)[0]).toEqual({ ModifyIndex: expect.any(Number), Flags: '0', Value: Buffer.from('one').toString('base64') });
  });

  it('watch prints one line per change from --from-index, NDJSON with --json, until SIGINT (exit 0)', async () => {
    await cli('kv', 'put', 'watched/before', 'x');
    const from = JSON.parse((await cli('kv', 'get', 'watched/before', '--json')).stdout).ModifyIndex as number;
    const text = startCli(['kv', 'watch', 'watched/', '--recurse', '--from-index', String(from)], { env });
    const json = startCli(['kv', 'watch', 'watched/', '--recurse', '--from-index', String(from), '--json'], { env });
    await text.waitForOutput(/put watched\/before = x\n/);
    await http('PUT', '/v1/kv/watched/after', 'y');
    await http('DELETE', '/v1/kv/watched/before');
    await text.waitForOutput(/delete watched\/before\n/);
    expect(text.stdout()).toMatch(new RegExp(`^${from} put watched/before = x\n\\d+ put watched/after = y\n\\d+ delete watched/before\n$`));
    await json.waitForOutput(/"Type":"delete"/);
    const events = json.stdout().trim().split('\n').map((line) => JSON.parse(line) as { Type: string; Key: string });
    expect(events.map((event) => [event.Type, event.Key])).toEqual([
      ['put', 'watched/before'],
      ['put', 'watched/after'],
      ['delete', 'watched/before'],
    ]);
    text.process.kill('SIGINT');
    json.process.kill('SIGINT');
    expect((await text.result()).code).toBe(0);
    expect((await json.result()).code).toBe(0);
  });

  it('session list, info and destroy', async () => {
    const { ID } = (await (await http('PUT', '/v1/session/create', JSON.stringify({ Name: 'cli-test', TTL: '30s' }))).json()) as { ID: string };
    expect((await cli('session', 'list')).stdout).toContain(`${ID}\tcli-test\t`);
    expect(JSON.parse((await cli('session', 'list', '--json')).stdout)).toContainEqual(expect.objectContaining({ ID, Name: 'cli-test', TTL: '30s' }));
    expect(JSON.parse((await cli('session', 'info', ID, '--json')).stdout)).toMatchObject({ ID, Name: 'cli-test', Behavior: 'release' });
    expect((await cli('session', 'info', ID)).stdout).toContain('Name:        cli-test\n');
    expect((await cli('session', 'destroy', ID)).code).toBe(0);
    expect(await cli('session', 'info', ID)).toMatchObject({ code: 1, stderr: `switchboard: session "${ID}" not found\n` });
  });

  it('finds the server by --address, then SWITCHBOARD_ADDR, then CONSUL_HTTP_ADDR (host:port accepted)', async () => {
    await cli('kv', 'put', 'addr/k', 'found');
    const hostPort = new URL(server.url).host;
    const dead = 'http://127.0.0.1:1';
    expect((await runCli(['kv', 'get', 'addr/k'], { env: { CONSUL_HTTP_ADDR: hostPort } })).stdout).toBe('found');
    expect((await runCli(['kv', 'get', 'addr/k'], { env: { SWITCHBOARD_ADDR: server.url, CONSUL_HTTP_ADDR: dead } })).stdout).toBe('found');
    expect((await runCli(['kv', 'get', 'addr/k', '--address', hostPort], { env: { SWITCHBOARD_ADDR: dead } })).stdout).toBe('found');
    const unreachable = await runCli(['kv', 'get', 'addr/k'], { env: { SWITCHBOARD_ADDR: dead } });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/^switchboard: .*127\.0\.0\.1:1.*\n$/);
  });

  it('sends --token, else SWITCHBOARD_TOKEN, else CONSUL_HTTP_TOKEN, as X-Consul-Token', async () => {
    // The server accepts every token today, so a stand-in records what arrives.
    const tokens: (string | undefined)[] = [];
    const recorder = createServer((request, response) => {
      tokens.push(request.headers['x-consul-token'] as string | undefined);
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
    const address = `127.0.0.1:${(recorder.address() as AddressInfo).port}`;
    try {
      await runCli(['kv', 'get', 'k', '--token', 'flag'], { env: { SWITCHBOARD_ADDR: address, SWITCHBOARD_TOKEN: 'env', CONSUL_HTTP_TOKEN: 'consul' } });
      await runCli(['kv', 'get', 'k'], { env: { SWITCHBOARD_ADDR: address, SWITCHBOARD_TOKEN: 'env', CONSUL_HTTP_TOKEN: 'consul' } });
      await runCli(['kv', 'get', 'k'], { env: { SWITCHBOARD_ADDR: address, CONSUL_HTTP_TOKEN: 'consul' } });
      expect(tokens).toEqual(['flag', 'env', 'consul']);
    } finally {
      await new Promise((resolve) => recorder.close(resolve));
    }
  });
});
