/**
 * etcd 3.4 as a one-member cluster on loopback (free client and peer ports, its own temp data
 * dir), driven through its JSON gateway. Default etcd durability: every write is fsynced to the
 * WAL before it is acknowledged, as Switchboard's embedded log does.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { etcdKv } from '../drivers/etcd-kv.js';
import { freePort, makeTempDir, removeTempDir, startChild, stopChild, waitForHttp } from '../lib/proc.js';
import type { RunningTarget, Target } from './target.js';

const INSTALL_HINT =
  'install it with `sudo apt-get install etcd-server` (Debian/Ubuntu; provides /usr/bin/etcd 3.4), ' +
  'or point BENCH_ETCD_BIN at an etcd 3.4+ binary';

function findEtcd(explicit: string | undefined): string | undefined {
  if (explicit) return existsSync(explicit) ? explicit : undefined;
  for (const dir of (process.env.PATH ?? '').split(':').filter(Boolean)) {
    const candidate = join(dir, 'etcd');
    if (existsSync(candidate)) return candidate;
  }
  return existsSync('/usr/bin/etcd') ? '/usr/bin/etcd' : undefined;
}

/** "3.4.23", or undefined when the binary does not say. */
function etcdVersion(bin: string): string | undefined {
  try {
    return /etcd Version:\s*(\S+)/.exec(execFileSync(bin, ['--version'], { encoding: 'utf8', timeout: 5000 }))?.[1];
  } catch {
    return undefined;
  }
}

export function etcd(opts: { bin: string | undefined; serializable: boolean }): Target & { version: string | undefined } {
  const bin = findEtcd(opts.bin);
  const version = bin ? etcdVersion(bin) : undefined;
  return {
    id: 'etcd',
    label: version ? `etcd ${version}` : 'etcd',
    version,
    supports: ['get', 'recurse', 'put', 'cas'],
    writable: true,

    unavailable() {
      if (!bin) return `etcd not found${opts.bin ? ` at BENCH_ETCD_BIN=${opts.bin}` : ''}: ${INSTALL_HINT}.`;
      if (!version) return `${bin} --version did not report an etcd version: ${INSTALL_HINT}.`;
      return undefined;
    },

    async start(): Promise<RunningTarget> {
      if (!bin) throw new Error(`etcd not found: ${INSTALL_HINT}`);
      const dir = makeTempDir('etcd');
      const clientPort = await freePort();
      let peerPort = await freePort();
      while (peerPort === clientPort) peerPort = await freePort();
      const client = `http://127.0.0.1:${clientPort}`;
      const peer = `http://127.0.0.1:${peerPort}`;
      // ETCD_* variables would override flags; the bench wants exactly these.
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ETCD_')));
      const child = startChild(
        'etcd',
        bin,
        [
          '--name=bench',
          `--data-dir=${join(dir, 'data')}`,
          `--listen-client-urls=${client}`,
          `--advertise-client-urls=${client}`,
          `--listen-peer-urls=${peer}`,
          `--initial-advertise-peer-urls=${peer}`,
          `--initial-cluster=bench=${peer}`,
          '--initial-cluster-state=new',
          '--logger=zap',
          '--log-level=warn',
        ],
        { cwd: dir, env, logFile: join(dir, 'etcd.log') },
      );
      const stop = async (): Promise<void> => {
        await stopChild(child);
        removeTempDir(dir);
      };
      try {
        await waitForHttp(child, `${client}/health`, (status) => status === 200);
      } catch (err) {
        await stop();
        throw err;
      }
      return { child, client: etcdKv(client, opts.serializable), stop };
    },
  };
}
