import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { type InProcessServer, startServer, tempDir } from '../helpers/server.js';

const KEYS = 10_000;

/** `kv export` → `kv import` between two fresh servers, in `consul kv export` format. */
describe('switchboard kv export and import', () => {
  let source: InProcessServer;
  let target: InProcessServer;
  let dir: string;

  beforeAll(async () => {
    [source, target] = await Promise.all([startServer(), startServer()]);
    dir = await tempDir('switchboard-cli-transfer-');
  });
  afterAll(async () => {
    await Promise.all([source.close(), target.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  /** Seeds `count` keys in 128-op txns: keys Go escapes, varied values (empty, binary, unicode), flags up to 2^64-1. */
  async function seed(url: string, count: number): Promise<void> {
    for (let start = 0; start < count; start += 128) {
      const ops = Array.from({ length: Math.min(128, count - start) }, (_, offset) => {
        const i = start + offset;
        const value = i % 7 === 0 ? Buffer.alloc(0) : i % 7 === 1 ? Buffer.from([i % 256, 0, 255]) : Buffer.from(`value ${i} — ünïcödé <&>`);
        const flags = i % 5 === 0 ? '18446744073709551615' : String(i);
        return `{"KV":{"Verb":"set","Key":"tree/${String(i).padStart(5, '0')}/${i % 11 === 0 ? '<&>' : 'k'}","Value":${value.length === 0 ? 'null' : JSON.stringify(value.toString('base64'))},"Flags":${flags}}}`;
      });
      const response = await fetch(`${url}/v1/txn`, { method: 'PUT', body: `[${ops.join(',')}]` });
      expect(response.status).toBe(200);
    }
  }

  it(`round-trips ${KEYS} keys byte for byte, with progress on stderr only`, async () => {
    await seed(source.url, KEYS);
    const exported = await runCli(['kv', 'export', '--address', source.url], { timeoutMs: 60_000 });
    expect(exported.code).toBe(0);
    expect(exported.stderr).toBe(`switchboard: exported ${KEYS} keys\n`);
    const entries = JSON.parse(exported.stdout) as { key: string; flags: number; value: string }[];
    expect(entries).toHaveLength(KEYS);
    expect(Object.keys(entries[0]!)).toEqual(['key', 'flags', 'value']);
    expect(exported.stdout).toContain('\t{\n\t\t"key": "tree/00000/\\u003c\\u0026\\u003e",\n\t\t"flags": 18446744073709551615,\n\t\t"value": ""\n\t}');

    const file = join(dir, 'export.json');
    await writeFile(file, exported.stdoutBytes);
    const imported = await runCli(['kv', 'import', file, '--address', target.url], { timeoutMs: 60_000 });
    expect(imported).toMatchObject({ code: 0, stdout: '' });
    const progressLines = imported.stderr.trim().split('\n');
    expect(progressLines.at(-1)).toBe(`switchboard: imported ${KEYS} keys`);
    expect(progressLines.length).toBeGreaterThanOrEqual(KEYS / 1000);

    const again = await runCli(['kv', 'export', '--address', target.url], { timeoutMs: 60_000 });
    expect(again.code).toBe(0);
    expect(again.stdoutBytes.equals(await readFile(file))).toBe(true);
  });

  it('imports from stdin and refuses a file that is not an export, with exit 1', async () => {
    const input = JSON.stringify([{ key: 'stdin/a', flags: 7, value: Buffer.from('A').toString('base64') }]);
    expect(await runCli(['kv', 'import', '--address', target.url], { input })).toMatchObject({ code: 0, stderr: 'switchboard: imported 1 key\n' });
    expect((await runCli(['kv', 'get', 'stdin/a', '--json', '--address', target.url])).stdout).toContain('"Flags": "7"');
    const bad = await runCli(['kv', 'import', '-', '--address', target.url], { input: '{"key": "x"}' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^switchboard: stdin: expected a JSON array/);
  });
});
