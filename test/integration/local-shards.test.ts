/**
 * The local proof of sharded runs (issue 6): `fleetbench run --local-shards 3` starts three
 * shard processes on this machine, each binding to its own source address (127.0.0.2-4),
 * against one Mosquitto 2, and merges their reports. The merged totals are checked exactly,
 * Mosquitto's log shows which shard (address) each client id came from, and merge refuses a
 * shard of another run. A second launch, one of whose shards is killed, leaves a partial
 * merged report naming the missing shard.
 */

import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { mergeEncoded, summarize } from '../../src/metrics/merge.js';
import type { ReportDocument } from '../../src/report/document.js';
import { runCli, startCli, type CliExit } from '../helpers/cli.js';
import { mosquittoSuite } from '../helpers/mosquitto-suite.js';
import { startSntpServer, type SntpServer } from '../helpers/sntp-server.js';

const DEVICES = 240;
const SHARDS = 3;
/** How far ahead the test's time server's clock is, ms. */
const SKEW_MS = 250;

/** A launch's merged report and its shard reports, in shard order. */
interface Launch {
  exit: CliExit;
  merged: ReportDocument;
  mergedFile: string;
  shards: { file: string; report: ReportDocument }[];
}

async function readJson(file: string): Promise<ReportDocument> {
  return JSON.parse(await readFile(file, 'utf8')) as ReportDocument;
}

/** The reports of the launch under `out` (one run directory). */
async function collect(out: string, exit: CliExit): Promise<Launch> {
  const [runDir] = await readdir(out);
  const dir = path.join(out, runDir ?? assert.fail(`no run directory in ${out}`));
  const mergedFile = path.join(dir, 'local-shards-merged.json');
  const shards: Launch['shards'] = [];
  for (let i = 0; i < SHARDS; i++) {
    const files = await readdir(path.join(dir, `shard-${i}`)).catch(() => [] as string[]);
    for (const f of files.filter((name) => name.endsWith('.json'))) {
      const file = path.join(dir, `shard-${i}`, f);
      shards.push({ file, report: await readJson(file) });
    }
  }
  return { exit, merged: await readJson(mergedFile), mergedFile, shards };
}

describe('three local shard processes against one Mosquitto', async () => {
  const suite = await mosquittoSuite(['log_type notice']);
  const skip = suite.skip;
  let dir = '';
  let sntp: SntpServer | undefined;
  let proof: Launch;
  let broken: Launch;
  let brokenPid = -1;

  const scenario = (devices: number, durationSec: number) => ({
    name: 'local-shards',
    target: suite.broker.url,
    devices,
    workers: 1,
    identity: { deviceId: 'device-{i:05}' },
    connect: { ratePerSec: 300, maxInFlight: 30 },
    traffic: { qos: 1, intervalMs: 500, payloadBytes: 64 },
    durationSec,
    drainMs: 2000,
  });

  /** Writes the scenario and returns the arguments that launch it with reports in `out`. */
  const launchArgs = async (name: string, s: object) => {
    const file = path.join(dir, `${name}.json`);
    await writeFile(file, JSON.stringify(s));
    const out = path.join(dir, `${name}-reports`);
    const args = ['run', file, '--certs', suite.pki.dir, '--out', out, '--local-shards', '3'];
    return { args: [...args, '--start-delay', '6'], out };
  };

  after(async () => {
    await sntp?.close();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  before(async () => {
    if (skip) return;
    dir = await mkdtemp(path.join(os.tmpdir(), 'fleetbench-local-shards-'));
    sntp = await startSntpServer(SKEW_MS);
    const a = await launchArgs('proof', scenario(DEVICES, 2));
    const exit = await runCli([...a.args, '--clock-server', sntp.address], dir, 90_000);
    assert.equal(exit.code, 0, exit.stderr);
    proof = await collect(a.out, { ...exit, signal: null });

    // A second launch of the same scenario (another run), whose shard 1 is killed at once.
    // The same scenario file (so merge cannot tell them apart by scenario), a smaller fleet.
    const b = await launchArgs('broken', scenario(DEVICES, 2));
    const child = startCli([...b.args, '--quiet', '--devices', '60', '--duration', '1'], {
      cwd: dir,
    });
    await child.waitForStderr(/\[shard 1\/3\] started, pid \d+/);
    brokenPid = Number(/\[shard 1\/3\] started, pid (\d+)/.exec(child.stderr())?.[1]);
    process.kill(brokenPid, 'SIGKILL');
    const brokenExit = await child.exited(90_000);
    broken = await collect(b.out, brokenExit);
  });

  test('the merged run holds exactly the fleet, and each shard its own part', { skip }, () => {
    const { merged, shards } = proof;
    const c = merged.metrics.counters;
    assert.equal(shards.length, SHARDS);
    assert.equal(c['connect.attempted'], DEVICES);
    assert.equal(c['connect.ok'], DEVICES);
    assert.equal(c['connection.lost'] ?? 0, 0);
    assert.ok((c['messages.published'] ?? 0) >= DEVICES, 'every device published');
    assert.equal(c['messages.received'], c['messages.published']);
    assert.equal(merged.options.devices, DEVICES);
    for (const key of Object.keys(c)) {
      const sum = shards.reduce((n, s) => n + (s.report.metrics.counters[key] ?? 0), 0);
      assert.equal(c[key], sum, key);
    }
    for (const name of ['connect', 'tls', 'connack', 'roundtrip'] as const) {
      const parts = shards.map((s) => s.report.metrics.histograms[name] ?? '');
      const counts = shards.reduce((n, s) => n + (s.report.metrics.latency[name]?.count ?? 0), 0);
      assert.equal(merged.metrics.latency[name]?.count, counts, name);
      assert.deepEqual(merged.metrics.latency[name], summarize(mergeEncoded(parts)), name);
    }
    const peak = Math.max(
      ...(merged.timeSeries?.intervals ?? []).map((i) => i.gauges['devices.connected'] ?? 0),
    );
    assert.equal(peak, DEVICES);
  });

  test('run id, shard list and the agreed start are recorded', { skip }, () => {
    const { merged, shards } = proof;
    const id = merged.run?.id ?? assert.fail('no run id');
    assert.deepEqual(merged.run?.shards, [0, 1, 2]);
    assert.deepEqual(merged.run?.missingShards, []);
    assert.equal(merged.partial, null);
    assert.equal(merged.run?.start?.at, shards[0]?.report.run?.start?.at);
    assert.deepEqual(merged.mergedFrom?.map((m) => m.shard?.index).sort(), [0, 1, 2]);
    shards.forEach((s, i) => {
      const run = s.report.run ?? assert.fail('no run');
      assert.equal(run.id, id);
      assert.deepEqual(run.shard, { index: i, count: SHARDS, devices: DEVICES / SHARDS });
      assert.deepEqual(s.report.options.shardSourceAddresses, [`127.0.0.${2 + i}`]);
      assert.equal(run.start?.at, shards[0]?.report.run?.start?.at);
      // Each shard measured its clock against the time server (250 ms ahead of this machine).
      const clock = run.clock ?? assert.fail('no clock offset');
      assert.equal(clock.server, sntp?.address);
      const offset = clock.offsetMs ?? assert.fail('offset not measured');
      assert.ok(Math.abs(offset - SKEW_MS) <= (clock.roundTripMs ?? 0) / 2 + 1, `offset ${offset}`);
      // Phases line up: every shard's series starts at the agreed instant by the server's
      // clock, i.e. that much earlier by this machine's (or later, if the shard was late).
      const late = run.start?.latenessMs ?? -1;
      assert.ok(late >= 0);
      const started = Date.parse(s.report.timeSeries?.startedAt ?? '');
      const agreedHere = Date.parse(run.start?.at ?? '') - offset;
      if (late === 0) assert.ok(Math.abs(started - agreedHere) <= 1, `${started} vs ${agreedHere}`);
    });
  });

  test('Mosquitto saw each shard’s own devices from its own address', { skip }, () => {
    const seen = new Map<string, string[]>();
    const log = suite.broker.output();
    for (const m of log.matchAll(/New client connected from ([\d.]+):\d+ as (device-\d+)/g)) {
      const [, address = '', id = ''] = m;
      if (!/^device-00[0-2]\d\d$/.test(id) || address === '127.0.0.1') continue;
      seen.set(address, [...(seen.get(address) ?? []), id]);
    }
    for (let i = 0; i < SHARDS; i++) {
      // Shard i runs ordinals i, i + 3, ...: device numbers i + 1, i + 4, ... (first index 1).
      const want = Array.from(
        { length: DEVICES / SHARDS },
        (_, k) => `device-${String(1 + i + SHARDS * k).padStart(5, '0')}`,
      );
      const got = [...new Set(seen.get(`127.0.0.${2 + i}`) ?? [])].sort();
      assert.deepEqual(
        got.filter((id) => want.includes(id)),
        want,
        `shard ${i}`,
      );
    }
  });

  test(
    'merge refuses a shard of another run, a shard twice and a missing shard',
    { skip },
    async () => {
      const [s0, s1, s2] = proof.shards.map((s) => s.file);
      const other = broken.shards.find((s) => s.report.run?.shard?.index === 2);
      const out = path.join(dir, 'remerged.json');
      const foreign = await runCli(['merge', s0 ?? '', s1 ?? '', other?.file ?? '', '-o', out]);
      assert.equal(foreign.code, 2);
      assert.match(foreign.stderr, /cannot merge: .* is from run \S+, .* from run \S+/);
      const twice = await runCli(['merge', s0 ?? '', s0 ?? '', s1 ?? '', '-o', out]);
      assert.equal(twice.code, 2);
      assert.match(twice.stderr, /are both shard 0\/3 of run/);
      const missing = await runCli(['merge', s0 ?? '', s2 ?? '', '-o', out]);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /has 3 shards but shard 1 is missing/);
      const again = await runCli(['merge', s2 ?? '', s0 ?? '', s1 ?? '', '-o', out]);
      assert.equal(again.code, 0, again.stderr);
      const remerged = await readJson(out);
      assert.deepEqual(remerged.metrics.counters, proof.merged.metrics.counters);
    },
  );

  test('a killed shard leaves a partial merged report naming it', { skip }, () => {
    const { exit, merged, shards } = broken;
    assert.equal(exit.code, 1, exit.stderr);
    assert.match(
      exit.stderr,
      new RegExp(`shard 1 \\(pid ${brokenPid}\\) ended with signal SIGKILL`),
    );
    assert.deepEqual(
      shards.map((s) => s.report.run?.shard?.index),
      [0, 2],
    );
    assert.deepEqual(merged.run?.missingShards, [1]);
    assert.match(merged.partial?.reason ?? '', /^missing-shards: 1 of 3/);
    assert.equal(merged.metrics.counters['connect.ok'], 40);
    assert.notEqual(merged.run?.id, proof.merged.run?.id);
  });
});
