/**
 * `--local-shards` with `--metrics-port`: each shard process serves its own endpoint (shard i on
 * the port + i), scraped over HTTP while the run goes on and after it (`--metrics-linger`), and
 * each endpoint's figures are its own shard's report. A small fleet on the embedded broker the
 * launcher runs. Then the launcher's refusal of a port range past 65535 and its dry run.
 */

import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';

import type { ReportDocument } from '../../src/report/document.js';
import { runCli, startCli, type CliExit } from '../helpers/cli.js';

const DEVICES = 24;
const SHARDS = 2;

/** Whether `port` can be bound on 127.0.0.1 now. */
function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port }, () => server.close(() => resolve(true)));
  });
}

/** A port P with P .. P + count - 1 free, below the ephemeral range the devices connect from. */
async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    let free = true;
    for (let i = 0; i < count && free; i++) free = await isFree(base + i);
    if (free) return base;
  }
  return assert.fail('no free port range found in 50 attempts');
}

/** The value of the first sample named `name` (labels ignored) in a text exposition. */
function sampleOf(text: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return Number(m?.[1] ?? assert.fail(`no ${name} in\n${text}`));
}

/** The labels of `fleetbench_run_info`. */
function runInfo(text: string): string {
  return /^fleetbench_run_info\{([^}]*)\}/m.exec(text)?.[1] ?? assert.fail(`no run info:\n${text}`);
}

describe('local shards, each with its own metrics endpoint', () => {
  let dir = '';
  let port = 0;
  let exit: CliExit;
  const urls: string[] = [];
  /** Per shard: every scrape's text, in order. */
  const scrapes: string[][] = Array.from({ length: SHARDS }, () => []);
  const reports: ReportDocument[] = [];

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fleetbench-shard-metrics-'));
    const file = path.join(dir, 'shard-metrics.json');
    const scenario = {
      name: 'shard-metrics',
      devices: DEVICES,
      workers: 1,
      connect: { ratePerSec: 200, maxInFlight: 16 },
      traffic: { qos: 1, intervalMs: 250, payloadBytes: 32 },
      phases: [
        { name: 'up', type: 'ramp' },
        { name: 'busy', type: 'steady', durationSec: 2 },
      ],
      drainMs: 1000,
    };
    await writeFile(file, JSON.stringify(scenario));
    port = await freePortRange(SHARDS);
    const out = path.join(dir, 'reports');
    const cli = startCli(
      [
        ...['run', file, '--quiet', '--out', out, '--certs', path.join(dir, 'certs')],
        ...['--local-shards', String(SHARDS), '--start-delay', '4'],
        ...['--metrics-port', String(port), '--metrics-linger', '3'],
      ],
      { cwd: dir },
    );
    const endpoint = /\[shard (\d+)\/2\] metrics endpoint: (http:\S+)/g;
    await cli.waitForStderr(/\[shard 0\/2\] metrics endpoint: http/);
    await cli.waitForStderr(/\[shard 1\/2\] metrics endpoint: http/);
    for (const m of cli.stderr().matchAll(endpoint)) urls[Number(m[1])] = m[2] ?? '';
    const lingering = (i: number) =>
      new RegExp(`\\[shard ${i}/2\\] metrics endpoint: serving the final`).test(cli.stderr());
    // Bounded: the run takes a few seconds; 150 rounds at 100 ms is 15 s and more.
    for (let round = 0; round < 150 && cli.child.exitCode === null; round++) {
      const done = [0, 1].every(lingering);
      for (let i = 0; i < SHARDS; i++) {
        const res = await fetch(urls[i] ?? '').catch(() => null);
        if (res?.status === 200) scrapes[i]?.push(await res.text());
      }
      if (done) break;
      await sleep(100);
    }
    exit = await cli.exited(60_000);
    const [runDir = ''] = await readdir(out);
    for (let i = 0; i < SHARDS; i++) {
      const shardDir = path.join(out, runDir, `shard-${i}`);
      const [json = ''] = (await readdir(shardDir)).filter((f) => f.endsWith('.json'));
      reports.push(JSON.parse(await readFile(path.join(shardDir, json), 'utf8')) as ReportDocument);
    }
  });

  after(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  test('shard i serves on the given port + i, and says so', () => {
    assert.equal(exit.code, 0, exit.stderr);
    assert.deepEqual(urls, [
      `http://127.0.0.1:${port}/metrics`,
      `http://127.0.0.1:${port + 1}/metrics`,
    ]);
    assert.match(
      exit.stderr,
      new RegExp(`metrics endpoints on 127\\.0\\.0\\.1:${port}-${port + 1}`),
    );
  });

  test("each endpoint holds its own shard's figures, the last one its report's", () => {
    for (let i = 0; i < SHARDS; i++) {
      const texts = scrapes[i] ?? [];
      const report = reports[i] ?? assert.fail(`no report of shard ${i}`);
      assert.ok(texts.length >= 2, `shard ${i}: ${texts.length} scrapes`);
      const last = texts[texts.length - 1] ?? '';
      assert.match(runInfo(last), new RegExp(`shard="${i}/${SHARDS}"`));
      assert.match(runInfo(last), new RegExp(`run_id="${report.run?.id ?? '?'}"`));
      assert.equal(sampleOf(last, 'fleetbench_devices'), DEVICES / SHARDS);
      const connects = texts.map((t) => sampleOf(t, 'fleetbench_connects_total'));
      assert.deepEqual(
        connects,
        [...connects].sort((a, b) => a - b),
        'a counter never goes down',
      );
      assert.equal(connects[connects.length - 1], report.metrics.counters['connect.ok']);
      assert.equal(report.metrics.counters['connect.ok'], DEVICES / SHARDS);
      const published = report.metrics.counters['messages.published'] ?? 0;
      assert.ok(published > 0, `shard ${i} published nothing`);
      assert.equal(sampleOf(last, 'fleetbench_messages_published_total'), published);
    }
  });

  test('a port range past 65535 is refused before any shard starts', async () => {
    const file = path.join(dir, 'shard-metrics.json');
    const args = ['run', file, '--local-shards', '2', '--certs', path.join(dir, 'certs')];
    const refused = await runCli([...args, '--metrics-port', '65535'], dir);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(
      refused.stderr,
      new RegExp(
        String.raw`--metrics-port must be 0\.\.65534 with --local-shards 2 \(got 65535\) ` +
          String.raw`\(shard 1 would get 65536\)`,
      ),
    );
    assert.doesNotMatch(refused.stderr, /\[shard \d/);
    const dry = await runCli([...args, '--metrics-port', '0', '--dry-run'], dir);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /a metrics endpoint per shard on a free port/);
    assert.match(dry.stdout, /--metrics-port 0 --metrics-host 127\.0\.0\.1 --shard i\/2/);
  });
});
