import { rm } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { Injectable, type LoggerService, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { filter, firstValueFrom, lastValueFrom, type Observable, timeout, toArray } from 'rxjs';
import { Switchboard } from '../../src/client/index.js';
import {
  type ConfigValueFormat,
  SwitchboardConfig,
  type SwitchboardConfigChange,
  SwitchboardConfigModule,
  type SwitchboardConfigOptions,
} from '../../src/nest/index.js';
import { type InProcessServer, startServer, tempDir } from '../helpers/server.js';

/** Nest's log lines, kept for assertions instead of printed. */
class RecordingLogger implements LoggerService {
  readonly lines: { level: string; message: string }[] = [];
  log(message: string): void {
    this.lines.push({ level: 'log', message });
  }
  error(message: string): void {
    this.lines.push({ level: 'error', message });
  }
  warn(message: string): void {
    this.lines.push({ level: 'warn', message });
  }
  at(level: string): string[] {
    return this.lines.filter((line) => line.level === level).map((line) => line.message);
  }
}

function boot(options: SwitchboardConfigOptions, logger = new RecordingLogger()): Promise<TestingModule> {
  return Test.createTestingModule({ imports: [SwitchboardConfigModule.forRoot(options)] })
    .setLogger(logger)
    .compile();
}

/** The first change matching `predicate`; subscribes now, so call it before making the change. */
function nextChange(changes: Observable<SwitchboardConfigChange>, predicate: (change: SwitchboardConfigChange) => boolean): Promise<SwitchboardConfigChange> {
  return firstValueFrom(changes.pipe(filter(predicate), timeout({ first: 5000 })));
}

/** A loopback port nothing listens on (fetch refuses low ports such as 1 itself, before connecting). */
async function closedPort(): Promise<number> {
  const listener = createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const { port } = listener.address() as AddressInfo;
  await new Promise((resolve) => listener.close(resolve));
  return port;
}

describe('SwitchboardConfigModule', () => {
  let server: InProcessServer;
  let writer: Switchboard;

  beforeAll(async () => {
    server = await startServer();
    writer = new Switchboard({ address: server.url });
  });

  afterAll(async () => {
    await writer.close();
    await server.close();
  });

  it('boots from the server: get() and snapshot() by relative key, folders left out, the client injectable', async () => {
    await writer.kv.put('boot/db_url', 'postgres://db:5432/orders');
    await writer.kv.put('boot/pool', '20');
    await writer.kv.put('boot/folder/', '');
    const app = await boot({ address: server.url, prefix: 'boot/' });
    try {
      const config = app.get(SwitchboardConfig);
      expect(config.source).toBe('server');
      expect(config.get<string>('db_url')).toBe('postgres://db:5432/orders');
      expect(config.get('boot/db_url')).toBeUndefined();
      expect(config.get('missing')).toBeUndefined();
      expect(config.snapshot()).toEqual({ db_url: 'postgres://db:5432/orders', pool: '20' });
      expect(config.index).toBe((await writer.kv.listWithIndex('boot/')).index);
      expect((await app.get(Switchboard).kv.get('boot/pool'))?.value.toString()).toBe('20');
    } finally {
      await app.close();
    }
  });

  it('reloads on change: changes$ emits each key with its previous value, then completes on shutdown', async () => {
    await writer.kv.put('live/db_url', 'postgres://a');
    const app = await boot({ address: server.url, prefix: 'live/' });
    const config = app.get(SwitchboardConfig);
    const everything = lastValueFrom(config.changes$.pipe(toArray()));

    const changed = nextChange(config.changes$, (change) => change.key === 'db_url');
    await writer.kv.put('live/db_url', 'postgres://b');
    expect(await changed).toEqual({ key: 'db_url', value: 'postgres://b', previous: 'postgres://a', index: config.index });
    expect(config.get('db_url')).toBe('postgres://b');

    const txn = nextChange(config.changes$, (change) => change.key === 'pool');
    await writer.kv.txn([
      { verb: 'delete', key: 'live/db_url' },
      { verb: 'set', key: 'live/pool', value: '5' },
    ]);
    await txn;
    expect(config.get('db_url')).toBeUndefined();
    expect(config.snapshot()).toEqual({ pool: '5' });

    await app.close();
    const index = config.index;
    expect(await everything).toEqual([
      { key: 'db_url', value: 'postgres://b', previous: 'postgres://a', index: expect.any(Number) },
      { key: 'db_url', value: undefined, previous: 'postgres://b', index },
      { key: 'pool', value: '5', previous: undefined, index },
    ]);
  });

  it.each<{ parse: ConfigValueFormat; text: string; parsed: unknown; next: string; nextParsed: unknown; bad: string }>([
    { parse: 'json', text: '{"host":"db","port":5432}', parsed: { host: 'db', port: 5432 }, next: '[1,2]', nextParsed: [1, 2], bad: '{"host":' },
    { parse: 'yaml', text: 'host: db\nport: 5432\n', parsed: { host: 'db', port: 5432 }, next: '- 1\n- 2\n', nextParsed: [1, 2], bad: 'host: [db\n' },
  ])('parses $parse, and refuses a live value that does not parse, keeping the last good one', async ({ parse, text, parsed, next, nextParsed, bad }) => {
    const prefix = `${parse}/`;
    await writer.kv.put(`${prefix}db`, text);
    const logger = new RecordingLogger();
    const app = await boot({ address: server.url, prefix, parse }, logger);
    try {
      const config = app.get(SwitchboardConfig);
      expect(config.get('db')).toEqual(parsed);
      expect(Object.isFrozen(config.get('db'))).toBe(true);

      const refused = nextChange(config.changes$, (change) => change.error !== undefined);
      await writer.kv.put(`${prefix}db`, bad);
      expect(await refused).toMatchObject({ key: 'db', value: parsed, previous: parsed, error: { key: 'db', format: parse } });
      expect(config.get('db')).toEqual(parsed);
      expect(logger.at('error')).toEqual([expect.stringMatching(new RegExp(`^Switchboard config "${prefix}": "db" is not valid ${parse}: .+; keeping the last good value$`))]);

      const fixed = nextChange(config.changes$, (change) => change.error === undefined);
      await writer.kv.put(`${prefix}db`, next);
      expect(await fixed).toMatchObject({ key: 'db', value: nextParsed, previous: parsed });
    } finally {
      await app.close();
    }
  });

  it('fails boot with a clear message when a value does not parse', async () => {
    await writer.kv.put('broken/settings', '{not json');
    await expect(boot({ address: server.url, prefix: 'broken/', parse: 'json' })).rejects.toThrow(
      new RegExp(`^Switchboard config "broken/" unusable \\(from server ${server.url}\\): "settings" is not valid json: `),
    );
  });

  it('takes its options from forRootAsync, injected from another module', async () => {
    await writer.kv.put('async/name', 'orders');
    @Injectable()
    class Settings {
      readonly switchboardAddress = server.url;
    }
    @Module({ providers: [Settings], exports: [Settings] })
    class SettingsModule {}
    const app = await Test.createTestingModule({
      imports: [
        SwitchboardConfigModule.forRootAsync({
          imports: [SettingsModule],
          inject: [Settings],
          useFactory: (settings: Settings) => ({ address: settings.switchboardAddress, prefix: 'async/' }),
        }),
      ],
    }).compile();
    try {
      expect(app.get(SwitchboardConfig).get('name')).toBe('orders');
    } finally {
      await app.close();
    }
  });
});

describe('SwitchboardConfigModule without a server', () => {
  it('boots from the cache when the server is down, and says so once', async () => {
    const cacheDir = await tempDir();
    const cacheFile = join(cacheDir, 'orders.json');
    const server = await startServer();
    const address = server.url;
    try {
      const writer = new Switchboard({ address });
      await writer.kv.put('cached/db_url', 'postgres://cached');
      await writer.close();
      // Closing the first app waits for its cache write.
      const first = await boot({ address, prefix: 'cached/', cacheFile });
      await first.close();
    } finally {
      await server.close();
    }
    try {
      const logger = new RecordingLogger();
      const app = await boot({ address, prefix: 'cached/', cacheFile }, logger);
      try {
        const config = app.get(SwitchboardConfig);
        expect(config.source).toBe('cache');
        expect(config.get('db_url')).toBe('postgres://cached');
        expect(logger.at('warn')).toEqual([expect.stringMatching(/^serving "cached\/" from cache .*orders\.json \(server unreachable: .+\)$/)]);
      } finally {
        await app.close();
      }
    } finally {
      await rm(cacheDir, { recursive: true, force: true });
    }
  });

  it('fails boot with one message naming the server, the prefix and the missing cache', async () => {
    const cacheDir = await tempDir();
    const cacheFile = join(cacheDir, 'none.json');
    const port = await closedPort();
    try {
      await expect(boot({ address: `http://127.0.0.1:${port}`, prefix: 'orders/', cacheFile })).rejects.toThrow(
        `Switchboard config "orders/" unavailable: server http://127.0.0.1:${port} unreachable (connect ECONNREFUSED 127.0.0.1:${port}) and no cache at ${cacheFile}`,
      );
    } finally {
      await rm(cacheDir, { recursive: true, force: true });
    }
  });
});
