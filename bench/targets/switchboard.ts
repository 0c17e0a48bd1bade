/**
 * Switchboard itself, embedded mode (file log, no REDIS_URL), as `npm start` runs it: `node
 * dist/main.js` in the repo root with a fresh DATA_DIR on a free loopback port.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { consulKv } from '../drivers/consul-kv.js';
import { repoRoot } from '../lib/paths.js';
import { freePort, makeTempDir, removeTempDir, startChild, stopChild, waitForHttp } from '../lib/proc.js';
import { ONE_KEY } from '../workloads/fixtures.js';
import type { RunningTarget, Target } from './target.js';

const MAIN = join(repoRoot, 'dist', 'main.js');

export const switchboard: Target = {
  id: 'switchboard',
  label: 'Switchboard',
  supports: ['get', 'recurse', 'put', 'cas'],
  writable: true,

  unavailable() {
    return existsSync(MAIN) ? undefined : `${MAIN} does not exist: run \`npm run build\` first (npm run bench does).`;
  },

  async start(): Promise<RunningTarget> {
    const dir = makeTempDir('switchboard');
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir);
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, NODE_ENV: 'production' };
    delete env.REDIS_URL; // embedded mode
    const child = startChild('switchboard', process.execPath, [MAIN], { cwd: repoRoot, env, logFile: join(dir, 'server.log') });
    const origin = `http://127.0.0.1:${port}`;
    const stop = async (): Promise<void> => {
      await stopChild(child);
      removeTempDir(dir);
    };
    try {
      // Any HTTP answer means it listens; a 404 for the not-yet-seeded key is expected.
      await waitForHttp(child, `${origin}/v1/kv/${ONE_KEY}`, (status) => status === 200 || status === 404);
    } catch (err) {
      await stop();
      throw err;
    }
    return { child, client: consulKv(origin), stop };
  },
};
