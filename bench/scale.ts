/**
 * `npm run bench:scale`: concurrent mutual-TLS devices held on this one machine by local
 * shards, one `fleetbench run --shard i/n` process per shard and one Mosquitto per shard on
 * loopback (a simulated cluster: every process has the 20,000 open-file limit), each shard on
 * its own source address. Before it, in the same run, the baseline: one shard's worth of
 * devices in a single process against one Mosquitto, so CPU and memory per connection compare
 * as ratios. Prints the figures and writes them as JSON under reports/. Bounded in time; it
 * refuses to start when the machine would be left with too little memory.
 */

import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Table from 'cli-table3';
import { TOOL_VERSION } from '../src/coordinator/assemble-report.js';
import { exitCodeFor, FleetbenchError, formatError } from '../src/errors.js';
import { initCerts } from '../src/fleet/certs-init.js';
import { writeFileAtomic } from '../src/fleet/write-file-atomic.js';
import { currentHost } from '../src/report/build-report.js';
import { runScaleCase, type ScaleCase } from './scale-case.js';
import { parseScaleOptions, type ScaleOptions } from './scale-options.js';
import { memAvailableBytes } from './scale-sampler.js';

const log = (line: string) => process.stderr.write(`bench:scale: ${line}\n`);

/**
 * Memory a held device takes before anything was measured in this run, KB: the 19,900-device
 * run measured about 81 KB for the whole tool, and Mosquitto takes about 20-25 KB.
 */
const FIRST_ESTIMATE_KB = 110;

/** Refuses a case that would leave less than `minFreeGib` available. */
function checkMemory(devices: number, kbPerDevice: number, o: ScaleOptions, what: string): void {
  const needBytes = devices * kbPerDevice * 1024;
  const available = memAvailableBytes();
  const leftGib = (available - needBytes) / 2 ** 30;
  if (leftGib >= o.minFreeGib) return;
  throw new FleetbenchError(
    'E_LIMIT',
    `${what}: ${devices} devices at ${kbPerDevice.toFixed(0)} KB each need ` +
      `${(needBytes / 2 ** 30).toFixed(1)} GiB; ${(available / 2 ** 30).toFixed(1)} GiB is ` +
      `available, which would leave ${leftGib.toFixed(1)} GiB (< --min-free-gib ${o.minFreeGib})`,
    { hint: 'run fewer --devices, or wait until other jobs on this machine free memory' },
  );
}

function ratio(a: number, b: number): string {
  return b > 0 && a > 0 ? `${(a / b).toFixed(2)}x` : '-';
}

function renderTable(single: ScaleCase | null, sharded: ScaleCase): string {
  const table = new Table({
    head: ['figure', 'unit', 'single process', 'sharded', 'ratio'],
    style: { head: [], border: [] },
  });
  const rows: [string, string, (c: ScaleCase) => number, boolean][] = [
    ['devices planned', 'devices', (c) => c.devices, false],
    ['processes (shards)', 'procs', (c) => c.shards, false],
    ['held at once', 'devices', (c) => c.heldAtOnce, false],
    ['devices not connected', 'devices', (c) => c.devices - c.connectOk, false],
    ['connect rate', '/s', (c) => c.connectsPerSec, false],
    ['connect p50 / p99', 'ms', (c) => c.connectP50Ms, false],
    ['harness CPU per connect', 'ms', (c) => c.harnessCpuPerConnectMs, true],
    ['Mosquitto CPU per connect', 'ms', (c) => c.brokerCpuPerConnectMs, true],
    ['harness RSS per held device', 'KB', (c) => c.harnessRssPerDeviceKb, true],
    ['  added by the devices', 'KB', (c) => c.harnessRssAddedPerDeviceKb, true],
    ['Mosquitto RSS per held device', 'KB', (c) => c.brokerRssPerDeviceKb, true],
    ['  added by the devices', 'KB', (c) => c.brokerRssAddedPerDeviceKb, true],
    ['harness CPU while holding', 'us/s/dev', (c) => c.harnessHoldCpuUsPerDeviceSec, true],
  ];
  for (const [label, unit, get, compare] of rows) {
    const show = (c: ScaleCase | null) => {
      if (c === null) return '-';
      if (label.startsWith('connect p50'))
        return `${c.connectP50Ms.toFixed(0)} / ${c.connectP99Ms.toFixed(0)}`;
      const v = get(c);
      if (Number.isInteger(v) || v >= 100) return Math.round(v).toLocaleString('en-US');
      return v.toFixed(2);
    };
    const r = compare && single !== null ? ratio(get(sharded), get(single)) : '-';
    table.push([label, unit, show(single), show(sharded), r]);
  }
  return table.toString();
}

async function main(): Promise<void> {
  const o = parseScaleOptions(process.argv.slice(2));
  const shards = Math.ceil(o.devices / o.perProcess);
  const perShard = Math.ceil(o.devices / shards);
  checkMemory(o.devices, FIRST_ESTIMATE_KB, o, 'the sharded run');
  const startedAt = new Date();
  const dir = await mkdtemp(join(tmpdir(), 'fleetbench-scale-'));
  try {
    const layout = await initCerts({ dir: join(dir, 'certs') });
    let single: ScaleCase | null = null;
    if (o.baseline) {
      single = await runScaleCase(
        o,
        { name: 'single', devices: perShard, shards: 1 },
        layout,
        dir,
        log,
      );
      log(
        `single process: ${single.heldAtOnce} held, ${single.harnessRssPerDeviceKb.toFixed(1)} KB each`,
      );
      // A shard runs as many devices as the single process did: its RSS per device (process
      // base included) with a margin decides whether the whole fleet fits.
      const kb = (single.harnessRssPerDeviceKb + single.brokerRssPerDeviceKb) * 1.15;
      if (kb > 0) checkMemory(o.devices, kb, o, 'the sharded run (per device as just measured)');
    }
    const sharded = await runScaleCase(
      o,
      { name: 'sharded', devices: o.devices, shards },
      layout,
      dir,
      log,
    );
    const doc = {
      kind: 'fleetbench-scale',
      formatVersion: 1,
      tool: { name: 'fleetbench', version: TOOL_VERSION },
      nodeVersion: process.version,
      host: currentHost(),
      startedAt: startedAt.toISOString(),
      endedAt: new Date().toISOString(),
      options: o,
      single,
      sharded,
    };
    const stamp = doc.startedAt.replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    await mkdir(o.outDir, { recursive: true });
    const path = join(o.outDir, `scale-${stamp}.json`);
    await writeFileAtomic(path, `${JSON.stringify(doc, null, 2)}\n`);
    process.stdout.write(`${renderTable(single, sharded)}\n`);
    log(`figures written to ${path}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${formatError(err)}\n`);
  process.exitCode = exitCodeFor(err);
});
