import { hostname } from 'node:os';
import { advertisedAddress, ConfigError, loadConfig } from './app-config.js';

describe(loadConfig.name, () => {
  it('fills every default', () => {
    expect(loadConfig({ NODE_NAME: 'n1' })).toEqual({
      port: 8500,
      host: '127.0.0.1',
      dataDir: './data',
      logLevel: 'log',
      nodeName: 'n1',
      historySize: 100_000,
      versionsPerKey: 20,
      snapshotEvery: 50_000,
      sessionTtlMultiplier: 2,
      watch: { progressMs: 10_000, bufferEvents: 10_000, bufferBytes: 8 * 1024 * 1024, catchupBatch: 1000 },
    });
  });

  it('reads the watch stream settings and refuses values that would disable them', () => {
    const config = loadConfig({ WATCH_PROGRESS_MS: '250', WATCH_BUFFER_EVENTS: '50', WATCH_BUFFER_BYTES: '65536', WATCH_CATCHUP_BATCH: '20' });
    expect(config.watch).toEqual({ progressMs: 250, bufferEvents: 50, bufferBytes: 65536, catchupBatch: 20 });
    expect(() => loadConfig({ WATCH_PROGRESS_MS: '0', WATCH_BUFFER_EVENTS: '0', WATCH_BUFFER_BYTES: '10', WATCH_CATCHUP_BATCH: 'x' })).toThrow(
      expect.objectContaining({
        problems: [
          expect.stringMatching(/^WATCH_PROGRESS_MS=0: /),
          expect.stringMatching(/^WATCH_BUFFER_EVENTS=0: /),
          expect.stringMatching(/^WATCH_BUFFER_BYTES=10: /),
          expect.stringMatching(/^WATCH_CATCHUP_BATCH=x: /),
        ],
      }),
    );
  });

  it('reads and converts values, treating empty ones as unset', () => {
    const config = loadConfig({ PORT: '0', HOST: '0.0.0.0', DATA_DIR: '/var/lib/sb', HISTORY_SIZE: '10', SNAPSHOT_EVERY: '', LOG_LEVEL: 'debug' });
    expect(config).toMatchObject({ port: 0, host: '0.0.0.0', dataDir: '/var/lib/sb', historySize: 10, snapshotEvery: 50_000, logLevel: 'debug' });
  });

  it('lists every bad value at once as NAME=value: reason', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'http', HISTORY_SIZE: '0', LOG_LEVEL: 'loud', VERSIONS_PER_KEY: '2.5' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(4);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^PORT=http: /),
        expect.stringMatching(/^HISTORY_SIZE=0: /),
        expect.stringMatching(/^LOG_LEVEL=loud: /),
        expect.stringMatching(/^VERSIONS_PER_KEY=2.5: /),
      ]),
    );
  });
});

describe('ADVERTISE_ADDR', () => {
  it.each(['10.0.0.5:8500', 'node-1.internal:1', '[fd00::5]:65535'])('accepts %s as given', (value) => {
    const config = loadConfig({ ADVERTISE_ADDR: value });
    expect(advertisedAddress(config, 1234)).toBe(value);
  });

  it.each(['10.0.0.5', '10.0.0.5:0', 'host:65536', 'http://host:8500', 'host :8500', 'fd00::5:8500'])('refuses %j', (value) => {
    expect(() => loadConfig({ ADVERTISE_ADDR: value })).toThrow(/ADVERTISE_ADDR=.*host:port/);
  });

  it('defaults to HOST and the port the server listens on, the hostname for a wildcard HOST', () => {
    expect(advertisedAddress(loadConfig({ HOST: '10.1.2.3', PORT: '8500' }), 8500)).toBe('10.1.2.3:8500');
    expect(advertisedAddress(loadConfig({ PORT: '0' }), 40123)).toBe('127.0.0.1:40123');
    expect(advertisedAddress(loadConfig({ HOST: '0.0.0.0' }), 8500)).toBe(`${hostname()}:8500`);
    expect(advertisedAddress(loadConfig({ HOST: '::1' }), 8500)).toBe('[::1]:8500');
  });

  it('reads the membership TTL with REDIS_URL', () => {
    expect(loadConfig({ REDIS_URL: 'redis://r:6379' }).redis?.memberTtlMs).toBe(10_000);
    expect(loadConfig({ REDIS_URL: 'redis://r:6379', REDIS_MEMBER_TTL_MS: '1500' }).redis?.memberTtlMs).toBe(1500);
    expect(() => loadConfig({ REDIS_MEMBER_TTL_MS: '10' })).toThrow(/REDIS_MEMBER_TTL_MS=10/);
  });
});
