/**
 * One case of the scale probe: Mosquittos on loopback (one per shard, so each holds one
 * shard's devices under its 20,000-file limit), `fleetbench run` in one process per shard
 * (`--shard i/n`, one run id, each shard on its own source address), every process sampled
 * from /proc, and the figures read from the shards' reports merged as `fleetbench merge` does.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ExitCode, FleetbenchError } from '../src/errors.js';
import type { CertsLayout } from '../src/fleet/certs-init.js';
import type { ReportDocument } from '../src/report/document.js';
import { mergeReports } from '../src/report/merge-reports.js';
import { readReport } from '../src/report/read-report.js';
import { startBrokers, stopBrokers } from './brokers.js';
import { endpointOf, holdThenStop } from './scale-hold.js';
import { memAvailableBytes, ProcSampler } from './scale-sampler.js';
import type { ScaleOptions } from './scale-options.js';

/** The fleetbench CLI this bench runs (bench/ and src/ compile side by side under dist/). */
const CLI = resolve(import.meta.dirname, '../src/cli/main.js');

/** What one case measured. */
export interface ScaleCase {
  name: string;
  devices: number;
  shards: number;
  /** Each shard's exit code (0: ran to its end with no threshold failing). */
  exitCodes: (number | null)[];
  /** Most devices connected at the same instant, all shards together. */
  heldAtOnce: number;
  connectOk: number;
  /** Failed connects by category. */
  connectFailed: Record<string, number>;
  /** connect.ok over the stretch from the first shard's ramp start to the last one's end, /s. */
  connectsPerSec: number;
  connectP50Ms: number;
  connectP99Ms: number;
  /** Harness (every shard process) and Mosquitto CPU over the ramps, per connect, ms. */
  harnessCpuPerConnectMs: number;
  brokerCpuPerConnectMs: number;
  /** Resident memory in the middle of the hold, per held device, KB (process bases included). */
  harnessRssPerDeviceKb: number;
  brokerRssPerDeviceKb: number;
  /** The same, less each process's RSS when its ramp began: what a device adds, KB. */
  harnessRssAddedPerDeviceKb: number;
  brokerRssAddedPerDeviceKb: number;
  /** Harness CPU while holding, per held device, µs per second (keepalive and timers). */
  harnessHoldCpuUsPerDeviceSec: number;
  /** Whether any shard's self-monitoring flagged the load generator as saturated. */
  saturated: boolean;
  wallSec: number;
}

interface Stretch {
  fromMs: number;
  toMs: number;
}

/** The wall-clock stretch of a report's time series, start to last interval end. */
function seriesStretch(report: ReportDocument): Stretch | null {
  const series = report.timeSeries;
  const last = series?.intervals.at(-1);
  if (series === undefined || last === undefined) return null;
  const origin = Date.parse(series.startedAt);
  const endMs = origin + Number(BigInt(last.endNs) - BigInt(series.startNs)) / 1e6;
  return { fromMs: origin, toMs: endMs };
}

/**
 * Most devices connected at the same instant across shards: each shard's connected gauge is a
 * step function of its intervals' wall-clock ends; their sum is taken at every step. (Summing
 * merged intervals instead under-counts when the shards' grids are offset.)
 */
function heldAtOnce(reports: ReportDocument[]): number {
  const steps = reports.map((r) => {
    const series = r.timeSeries;
    if (series === undefined) return [];
    const origin = Date.parse(series.startedAt);
    return series.intervals.map((i) => ({
      atMs: origin + Number(BigInt(i.endNs) - BigInt(series.startNs)) / 1e6,
      connected: i.gauges['devices.connected'] ?? 0,
    }));
  });
  const instants = [...new Set(steps.flat().map((s) => s.atMs))].sort((a, b) => a - b);
  let best = 0;
  for (const t of instants) {
    let sum = 0;
    for (const list of steps) {
      let level = 0;
      for (const s of list) if (s.atMs <= t) level = s.connected;
      sum += level;
    }
    best = Math.max(best, sum);
  }
  return best;
}

/** The wall-clock stretch of a report's phase (by type). */
function phaseStretch(report: ReportDocument, type: string): Stretch | null {
  const phase = report.phases?.find((p) => p.type === type);
  const origin = Date.parse(report.timeSeries?.startedAt ?? report.startedAt);
  if (phase === undefined) return null;
  return { fromMs: origin + phase.startMs, toMs: origin + phase.startMs + phase.durationMs };
}

async function writeScenario(dir: string, o: ScaleOptions, c: CaseSpec, urls: string[]) {
  const file = join(dir, `${c.name}.json`);
  const scenario = {
    name: `scale-${c.name}`,
    devices: c.devices,
    workers: o.workers,
    ...(urls.length === 1 ? { target: urls[0] } : { targets: urls }),
    connect: {
      ratePerSec: o.ratePerSec,
      // A share per shard: each shard's connects in flight stay under its Mosquitto's backlog.
      maxInFlight: o.inFlight * c.shards,
      sourceAddresses: `127.0.0.2-127.0.0.${1 + c.shards}`,
    },
    mqtt: { connectTimeoutMs: 60_000 },
    traffic: false,
    phases: [
      { name: 'ramp', type: 'ramp' },
      // Ended by the probe (scale-hold.ts) once every shard has held for --hold-sec.
      { name: 'hold', type: 'hold', durationSec: o.timeoutSec },
    ],
    drainMs: 1000,
  };
  await writeFile(file, JSON.stringify(scenario, null, 2));
  return file;
}

/** What a case runs: its name, the whole fleet and the shards it is split into. */
export interface CaseSpec {
  name: string;
  devices: number;
  shards: number;
}

function startShard(args: string[], log: (line: string) => void, i: number): ChildProcess {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  child.stderr?.on('data', (d: Buffer) => {
    tail = (tail + d.toString()).slice(-4000);
  });
  child.once('exit', (code) => {
    // 130: stopped by the probe's SIGINT at the end of the hold, as planned.
    if (code !== 0 && code !== ExitCode.interrupted)
      log(`shard ${i} exited with ${code}: ${tail.split('\n').slice(-6).join(' | ')}`);
  });
  return child;
}

/** Waits for every child; past the deadline (or low memory) each gets SIGINT, then SIGKILL. */
async function awaitShards(
  children: ChildProcess[],
  deadlineMs: number,
  minFreeBytes: number,
  log: (line: string) => void,
): Promise<(number | null)[]> {
  const exits = children.map(
    (c) => new Promise<number | null>((res) => c.once('exit', (code) => res(code))),
  );
  let stopping = false;
  const watch = setInterval(() => {
    const low = memAvailableBytes() < minFreeBytes;
    if (stopping || (Date.now() < deadlineMs && !low)) return;
    stopping = true;
    log(low ? 'memory ran low: stopping the shards' : 'time limit: stopping the shards');
    for (const c of children) if (c.exitCode === null && c.pid) process.kill(c.pid, 'SIGINT');
    setTimeout(() => {
      for (const c of children) if (c.exitCode === null && c.pid) process.kill(c.pid, 'SIGKILL');
    }, 30_000).unref();
  }, 1000);
  try {
    return await Promise.all(exits);
  } finally {
    clearInterval(watch);
  }
}

/** Runs one case end to end and reads its figures. */
export async function runScaleCase(
  o: ScaleOptions,
  c: CaseSpec,
  layout: CertsLayout,
  dir: string,
  log: (line: string) => void,
): Promise<ScaleCase> {
  const t0 = Date.now();
  const brokers = await startBrokers(layout, c.shards);
  const sampler = new ProcSampler();
  try {
    const scenario = await writeScenario(
      dir,
      o,
      c,
      brokers.map((b) => b.url),
    );
    const outDir = join(dir, `reports-${c.name}`);
    await mkdir(outDir, { recursive: true });
    const runId = `scale-${c.name}-${t0}`;
    const children = Array.from({ length: c.shards }, (_, i) =>
      startShard(
        [
          ...['run', scenario, '--quiet', '--certs', layout.dir, '--out', outDir],
          ...['--metrics-port', '0'],
          ...(c.shards > 1 ? ['--shard', `${i}/${c.shards}`, '--run-id', runId] : []),
        ],
        log,
        i,
      ),
    );
    const pids = children.map((ch) => ch.pid ?? -1);
    sampler.start([...pids, ...brokers.map((b) => b.pid)]);
    log(`${c.name}: ${c.devices} devices, ${c.shards} shard(s) (pids ${pids.join(', ')})`);
    const deadline = t0 + o.timeoutSec * 1000;
    const exits = awaitShards(children, deadline, o.minFreeGib * 2 ** 30 * 0.5, log);
    const urls = await Promise.all(children.map(endpointOf)).catch(() => null);
    if (urls !== null) {
      const polled = await holdThenStop(children, urls, {
        devices: c.devices,
        holdMs: o.holdSec * 1000,
        everyMs: 2000,
        log: (line) => log(`${c.name}: ${line}`),
      });
      log(`${c.name}: most connected at one poll of the endpoints: ${polled}`);
    }
    const exitCodes = await exits;
    sampler.stop();
    const files = (await readdir(outDir)).filter((f) => f.endsWith('.json')).sort();
    const reports = await Promise.all(files.map((f) => readReport(join(outDir, f))));
    return figuresOf(
      c,
      reports,
      files,
      exitCodes,
      sampler,
      pids,
      brokers.map((b) => b.pid),
      t0,
    );
  } finally {
    sampler.stop();
    await stopBrokers(brokers);
  }
}

function figuresOf(
  c: CaseSpec,
  reports: ReportDocument[],
  files: string[],
  exitCodes: (number | null)[],
  sampler: ProcSampler,
  shardPids: number[],
  brokerPids: number[],
  t0: number,
): ScaleCase {
  // Reports of shard i go with process i and Mosquitto i: the run id orders them by shard.
  const byShard = reports
    .map((r, i) => ({ report: r, file: files[i] ?? '', shard: r.run?.shard?.index ?? i }))
    .sort((a, b) => a.shard - b.shard);
  if (byShard.length === 0) {
    throw new FleetbenchError('E_INTERNAL', `${c.name}: no shard wrote a report`, {
      hint: 'see the shard errors logged above',
    });
  }
  const merged =
    byShard.length === 1
      ? (byShard[0]?.report as ReportDocument)
      : mergeReports(byShard.map((b) => ({ file: b.file, report: b.report })));
  const counters = merged.metrics.counters;
  let harnessCpu = 0;
  let brokerCpu = 0;
  let harnessRss = 0;
  let brokerRss = 0;
  let harnessBase = 0;
  let brokerBase = 0;
  /** Harness CPU while holding, µs per second, all shards. */
  let holdCpuRate = 0;
  let first = Infinity;
  let last = -Infinity;
  byShard.forEach(({ report, shard }) => {
    // A shard stopped by the time limit has no phases: its ramp runs to its last interval.
    const ramp = phaseStretch(report, 'ramp') ?? seriesStretch(report);
    const hold = phaseStretch(report, 'hold');
    const pid = shardPids[shard] ?? -1;
    const broker = brokerPids[shard] ?? -1;
    if (ramp !== null) {
      harnessCpu += sampler.cpuBetween(pid, ramp.fromMs, ramp.toMs);
      harnessBase += sampler.rssAt(pid, ramp.fromMs);
      brokerBase += sampler.rssAt(broker, ramp.fromMs);
      brokerCpu += sampler.cpuBetween(broker, ramp.fromMs, ramp.toMs);
      first = Math.min(first, ramp.fromMs);
      last = Math.max(last, ramp.toMs);
    }
    if (hold !== null) {
      const mid = (hold.fromMs + hold.toMs) / 2;
      harnessRss += sampler.rssAt(pid, mid);
      brokerRss += sampler.rssAt(broker, mid);
      const sec = (hold.toMs - hold.fromMs) / 1000;
      if (sec > 0) holdCpuRate += sampler.cpuBetween(pid, hold.fromMs, hold.toMs) / sec;
    }
  });
  const held = heldAtOnce(byShard.map((b) => b.report));
  const ok = counters['connect.ok'] ?? 0;
  const failed = Object.fromEntries(
    Object.entries(counters).filter(([k, v]) => k.startsWith('connect.failed.') && v > 0),
  );
  const latency = merged.metrics.latency.connect;
  return {
    name: c.name,
    devices: c.devices,
    shards: c.shards,
    exitCodes,
    heldAtOnce: held,
    connectOk: ok,
    connectFailed: failed,
    connectsPerSec: last > first ? ok / ((last - first) / 1000) : 0,
    connectP50Ms: (latency?.p50Us ?? 0) / 1000,
    connectP99Ms: (latency?.p99Us ?? 0) / 1000,
    harnessCpuPerConnectMs: ok > 0 ? harnessCpu / 1000 / ok : 0,
    brokerCpuPerConnectMs: ok > 0 ? brokerCpu / 1000 / ok : 0,
    harnessRssPerDeviceKb: held > 0 ? harnessRss / held : 0,
    brokerRssPerDeviceKb: held > 0 ? brokerRss / held : 0,
    harnessRssAddedPerDeviceKb: held > 0 ? (harnessRss - harnessBase) / held : 0,
    brokerRssAddedPerDeviceKb: held > 0 ? (brokerRss - brokerBase) / held : 0,
    harnessHoldCpuUsPerDeviceSec: held > 0 ? holdCpuRate / held : 0,
    saturated: byShard.some((b) => b.report.loadGenerator?.saturated === true),
    wallSec: (Date.now() - t0) / 1000,
  };
}
