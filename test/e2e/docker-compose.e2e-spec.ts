import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config/app-config.js';

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}

/** docker-compose.yml is for users and cannot run here: keep it correct by checking what it says. */
describe('docker-compose.yml', () => {
  let services: Record<string, ComposeService>;

  beforeAll(async () => {
    services = (parse(await readFile('docker-compose.yml', 'utf8'), { merge: true }) as { services: Record<string, ComposeService> }).services;
  });

  const nodes = (): [string, ComposeService][] => Object.entries(services).filter(([name]) => name.startsWith('switchboard'));

  it('runs three Switchboard nodes on host ports 8501-8503 with healthchecks, after Redis is healthy', () => {
    expect(nodes().map(([, node]) => node.ports)).toEqual([['8501:8500'], ['8502:8500'], ['8503:8500']]);
    for (const [, node] of nodes()) {
      expect(node.build).toBe('.');
      expect(node.healthcheck?.test.join(' ')).toContain('/v1/status/leader');
      expect(node.depends_on).toEqual({ redis: { condition: 'service_healthy' } });
    }
  });

  it('sets only variables the config schema accepts, with values it accepts, one node name each', () => {
    for (const [name, node] of nodes()) {
      const environment = node.environment ?? {};
      for (const variable of Object.keys(environment)) expect(CONFIG_VARIABLES).toContain(variable);
      const config = loadConfig(environment);
      expect(config.nodeName).toBe(name);
      expect(config.redis?.url).toBe('redis://redis:6379');
      expect(config.port).toBe(8500);
    }
  });

  it('runs Redis with an fsync-always AOF on a volume', () => {
    const redis = services.redis!;
    expect(redis.command).toEqual(expect.arrayContaining(['--appendonly', 'yes', '--appendfsync', 'always']));
    expect(redis.healthcheck?.test).toEqual(['CMD', 'redis-cli', 'ping']);
  });
});
