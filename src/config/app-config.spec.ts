import { ConfigError, loadConfig } from './app-config.js';

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
    });
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
