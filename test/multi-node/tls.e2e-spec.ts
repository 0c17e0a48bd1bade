import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Nodes } from '../helpers/cluster.js';
import { rawRequest } from '../helpers/http.js';
import { type RedisServer, type RedisTlsFiles, startRedisServer } from '../helpers/redis-server.js';
import { spawnServer, tempDir } from '../helpers/server.js';

const run = promisify(execFile);
const WRITE_TIMEOUT_MS = 2000;

/** A throwaway CA and a certificate it signed for 127.0.0.1 and localhost (EC P-256, valid a day). */
async function makeCertificates(dir: string): Promise<RedisTlsFiles> {
  const file = (name: string): string => join(dir, name);
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const openssl = (args: string[]) => run('openssl', args, { timeout: 10_000 });
  await openssl([
    'req', '-x509', ...newKey, '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '1', '-subj', '/CN=Switchboard test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign',
  ]);
  await openssl(['req', ...newKey, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=127.0.0.1']);
  await writeFile(file('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  await openssl([
    'x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-days', '1',
    '-extfile', file('server.ext'), '-out', file('server.pem'),
  ]);
  return { certFile: file('server.pem'), keyFile: file('server.key'), caFile: file('ca.pem') };
}

/** A node on a TLS-only private Redis (REDIS_URL=rediss://…), trusting its CA through NODE_EXTRA_CA_CERTS. */
describe('Redis over TLS', () => {
  let certDir: string;
  let tls: RedisTlsFiles;
  let redis: RedisServer;
  let nodes: Nodes;

  beforeAll(async () => {
    certDir = await tempDir('switchboard-tls-');
    tls = await makeCertificates(certDir);
    redis = await startRedisServer({ tls });
    nodes = new Nodes({ REDIS_URL: redis.url, REDIS_WRITE_TIMEOUT_MS: String(WRITE_TIMEOUT_MS) });
    await nodes.spawn('a', { NODE_EXTRA_CA_CERTS: tls.caFile });
  }, 60_000);
  afterAll(async () => {
    await nodes?.dispose();
    await redis?.dispose();
    if (certDir !== undefined) await rm(certDir, { recursive: true, force: true });
  });

  it('writes and reads through rediss:// once the CA is trusted', async () => {
    expect(redis.url).toBe(`rediss://127.0.0.1:${redis.port}`);
    for (let i = 0; i < 20; i++) {
      const res = await rawRequest(nodes.url('a'), `/v1/kv/tls/${i}`, { method: 'PUT', body: `value ${i}` });
      expect([res.status, res.text]).toEqual([200, 'true']);
    }
    // ?consistent asks Redis for the log's index: a round trip over TLS on every read.
    for (let i = 0; i < 20; i++) expect((await rawRequest(nodes.url('a'), `/v1/kv/tls/${i}?raw&consistent`)).text).toBe(`value ${i}`);
    expect(await nodes.status('a')).toMatchObject({ Transport: 'redis', KnownLeader: true, Lag: 0, Members: ['a'] });
  });

  it('without the CA, refuses to start: one line names the certificate problem, exit 1 within the write timeout', async () => {
    const started = Date.now();
    const failure = await spawnServer({ REDIS_URL: redis.url, REDIS_PREFIX: nodes.prefix, NODE_NAME: 'untrusting', REDIS_WRITE_TIMEOUT_MS: String(WRITE_TIMEOUT_MS) }, 30_000).then(
      async (server) => {
        server.process.kill('SIGKILL');
        await server.exited;
        return new Error('the node started without trusting the certificate');
      },
      (error: Error) => error,
    );
    const elapsed = Date.now() - started;
    expect(failure.message).toMatch(/^server exited \(1\) before it was ready/);
    const fatal = failure.message.split('\n').filter((line) => line.includes('cannot open the log'));
    expect(fatal).toEqual([expect.stringMatching(/no connection to Redis within 2000 ms \(last error: [^)]*certificate[^)]*\)$/)]);
    // Node's boot takes part of the margin; the log gives up at the write timeout.
    expect(elapsed).toBeLessThan(WRITE_TIMEOUT_MS + 5000);
  }, 30_000);
});
