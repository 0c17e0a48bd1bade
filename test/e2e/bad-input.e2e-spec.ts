import { rawRequest, type RawResponse } from '../helpers/http.js';
import { type InProcessServer, startServer } from '../helpers/server.js';

const MAX_VALUE = 512 * 1024;

/** Bad input gets a 4xx with a one-line reason, and the server keeps answering normally. */
describe('bad input', () => {
  let server: InProcessServer;
  const call = (path: string, options: Parameters<typeof rawRequest>[2] = {}): Promise<RawResponse> =>
    rawRequest(server.url, path, options);

  beforeAll(async () => {
    server = await startServer();
    await call('/v1/kv/healthy', { method: 'PUT', body: 'yes' });
  });
  afterAll(async () => {
    await server.close();
  });
  afterEach(async () => {
    const health = await call('/v1/kv/healthy?raw');
    expect(health.status).toBe(200);
    expect(health.text).toBe('yes');
  });

  const expectReason = (res: RawResponse, status: number, reason: string | RegExp): void => {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).not.toContain('\n');
    if (typeof reason === 'string') expect(res.text).toBe(reason);
    else expect(res.text).toMatch(reason);
  };

  it.each(['-1', 'abc', '1e3', '18446744073709551616', '0x10', ' 1'])('index=%s → 400 Invalid index', async (value) => {
    expectReason(await call(`/v1/kv/healthy?index=${encodeURIComponent(value)}`), 400, 'Invalid index');
  });

  it.each(['10x', '-1s', '5', 'abc', '1d', 's'])('wait=%s → 400 Invalid wait time', async (value) => {
    expectReason(await call(`/v1/kv/healthy?index=1&wait=${encodeURIComponent(value)}`), 400, 'Invalid wait time');
  });

  it.each(['cas=x', 'cas=-1', 'cas=', 'cas=1.5', 'flags=x', 'flags=', 'flags=18446744073709551616', 'flags=-3'])(
    'PUT ?%s → 400 naming the parameter',
    async (query) => {
      const name = query.split('=')[0]!;
      expectReason(await call(`/v1/kv/k?${query}`, { method: 'PUT', body: 'v' }), 400, new RegExp(`^Invalid ${name} value`));
    },
  );

  it('DELETE ?cas=bad → 400', async () => {
    expectReason(await call('/v1/kv/k?cas=nope', { method: 'DELETE' }), 400, /^Invalid cas value/);
  });

  it.each(['a%0Ab', 'a%00b', 'tab%09', 'del%7F'])('a key with control characters (%s) → 400', async (key) => {
    expectReason(await call(`/v1/kv/${key}`, { method: 'PUT', body: 'v' }), 400, /^Invalid key/);
    expectReason(await call(`/v1/kv/${key}`), 400, /^Invalid key/);
  });

  it.each(['%FF', 'a%C3%28b', '%E2%82', 'bad%zz'])('a key with invalid UTF-8 or percent-encoding (%s) → 400', async (key) => {
    expectReason(await call(`/v1/kv/${key}`, { method: 'PUT', body: 'v' }), 400, /^Invalid URL path/);
  });

  it.each(['a//b', 'a/./b', 'a/../b', './a', 'a/..', 'a/.', '/a', 'a%2F%2Fb', 'a%2F..%2Fb'])(
    'a key with empty, "." or ".." segments (%s) → 400, never stored',
    async (key) => {
      expectReason(await call(`/v1/kv/${key}`, { method: 'PUT', body: 'v' }), 400, /^Invalid key/);
      const keys = await call('/v1/kv/?keys');
      expect(JSON.parse(keys.text)).toEqual(['healthy']);
    },
  );

  it('a value of exactly 512 KiB is accepted', async () => {
    const res = await call('/v1/kv/big', { method: 'PUT', body: Buffer.alloc(MAX_VALUE, 7) });
    expect(res.text).toBe('true');
    expect((await call('/v1/kv/big?raw')).body.length).toBe(MAX_VALUE);
    await call('/v1/kv/big', { method: 'DELETE' });
  });

  it('a value of 512 KiB + 1 byte with a declared length → 413', async () => {
    const res = await call('/v1/kv/big', { method: 'PUT', body: Buffer.alloc(MAX_VALUE + 1, 7) });
    expectReason(res, 413, `Request body(${MAX_VALUE + 1} bytes) too large, max size: ${MAX_VALUE} bytes.`);
    expect((await call('/v1/kv/big')).status).toBe(404);
  });

  it('a value of 512 KiB + 1 byte sent chunked → 413 on the bytes actually read', async () => {
    const res = await call('/v1/kv/big', { method: 'PUT', body: Buffer.alloc(MAX_VALUE + 1, 7), chunked: true });
    expectReason(res, 413, /too large, max size: 524288 bytes\.$/);
    expect((await call('/v1/kv/big')).status).toBe(404);
  });

  it('a rollback to an unknown version → 404 with a reason', async () => {
    expectReason(await call('/v1/kv/healthy?rollback=999999', { method: 'PUT' }), 404, /not retained/);
  });

  it('?rollback=abc → 400', async () => {
    expectReason(await call('/v1/kv/healthy?rollback=abc', { method: 'PUT' }), 400, /^Invalid rollback value/);
  });
});
