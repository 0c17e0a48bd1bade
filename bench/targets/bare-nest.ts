/**
 * The ceiling: a NestJS-on-Fastify app whose GET route answers Switchboard's single-key body from
 * a constant and whose PUT route only copies the body and answers `true` (bench/apps/bare-nest.ts),
 * run as its own process like the server.
 */
import { join } from 'node:path';
import { consulKv } from '../drivers/consul-kv.js';
import { benchDist, repoRoot } from '../lib/paths.js';
import { freePort, makeTempDir, removeTempDir, startChild, stopChild, waitForHttp } from '../lib/proc.js';
import { ONE_KEY } from '../workloads/fixtures.js';
import type { RunningTarget, Target } from './target.js';

export const bareNest: Target = {
  id: 'bare-nest',
  label: 'bare Nest',
  supports: ['get', 'put'],
  writable: false,

  unavailable: () => undefined,

  async start(): Promise<RunningTarget> {
    const dir = makeTempDir('bare-nest');
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOST: '127.0.0.1', NODE_ENV: 'production' };
    const child = startChild('bare-nest', process.execPath, [join(benchDist, 'apps', 'bare-nest.js')], {
      cwd: repoRoot,
      env,
      logFile: join(dir, 'server.log'),
    });
    const origin = `http://127.0.0.1:${port}`;
    const stop = async (): Promise<void> => {
      await stopChild(child);
      removeTempDir(dir);
    };
    try {
      await waitForHttp(child, `${origin}/v1/kv/${ONE_KEY}`, (status) => status === 200);
    } catch (err) {
      await stop();
      throw err;
    }
    return { child, client: consulKv(origin), stop };
  },
};
