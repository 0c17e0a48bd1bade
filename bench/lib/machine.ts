/** What RESULTS.md says about where and what was measured. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { repoRoot } from './paths.js';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  ramBytes: number;
  os: string;
  node: string;
  commit: string;
}

function gitCommit(): string {
  try {
    const run = (args: string[]): string => execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8', timeout: 5000 }).trim();
    const head = run(['rev-parse', '--short', 'HEAD']);
    const dirty = run(['status', '--porcelain', '--untracked-files=no']) !== '';
    return dirty ? `${head} + uncommitted changes` : head;
  } catch {
    return 'unknown';
  }
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim().replace(/\s+/g, ' ') ?? 'unknown',
    cores: os.availableParallelism?.() ?? cpus.length,
    ramBytes: os.totalmem(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    commit: gitCommit(),
  };
}
