/**
 * `node dist/bench/identity.js [--devices 100000] [--memory-devices 2000] [--dir DIR]`: the
 * fleet-identity figures of issue 3, each beside a baseline measured in the same run.
 *
 * - certificates/s of `certs init --devices N` (both cores, Node's crypto) against
 *   @peculiar/x509's `issueDeviceCert` on one thread (the library path it replaces);
 * - the preflight of the N devices (both cores) against the same checks done with Node's
 *   X509Certificate and createPrivateKey on one thread, per device;
 * - run-time minting (`identity.mint`) of the N devices in memory on the same threads, as a
 *   run's workers prepare them, against the file-based `certs init` rate of the same run;
 *   then the same preparation with each device's secure context built too;
 * - RSS per connection held by `fleetbench run` with a minted certificate per device
 *   (contexts kept, then released after the handshake) against one shared certificate, each
 *   in its own process (identity-memory.ts);
 * - client CPU per mutual-TLS connect, TLS 1.2 and 1.3 (connect-cpu.ts): a secure context per
 *   device built before, and a resumed session of the device's own, against the options given
 *   to each connect.
 *
 * The last two run against one Mosquitto the bench starts for both, on the set's broker
 * certificate.
 *
 * Writes the set into a temp directory (or `--dir`'s parent) and deletes it afterwards.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';

import { initDeviceSet } from '../src/fleet/device-set.js';
import { readManifest } from '../src/fleet/manifest.js';
import { preflightDevices } from '../src/fleet/preflight.js';
import { startMosquitto, type RunningMosquitto } from '../test/helpers/mosquitto.js';
import { measureConnectCpu } from './connect-cpu.js';
import { measureHeldMemory } from './identity-memory.js';
import { measureMintPreparation } from './mint-preparation.js';
import { createCa, issueDeviceCert } from '../src/fleet/pki.js';

const BASELINE_CERTS = 300;
/** Devices of the connect-CPU probe, each connected once per way and TLS version. */
const CONNECT_DEVICES = 300;
/** Devices held per way by the memory probe. */
const MEMORY_DEVICES = 2000;

const log = (line: string) => process.stderr.write(`bench identity: ${line}\n`);

/** Certificates per second of the @peculiar/x509 path, one thread. */
async function baselineRate(): Promise<number> {
  const root = await createCa();
  const started = performance.now();
  for (let i = 0; i < BASELINE_CERTS; i++) {
    await issueDeviceCert(root.ca, { deviceId: `baseline-${i}` });
  }
  return BASELINE_CERTS / ((performance.now() - started) / 1000);
}

/** Devices per second of the checks done with Node's full parsers, one thread. */
async function baselineCheckRate(manifest: string, caFile: string): Promise<number> {
  const rows = (await readManifest(manifest)).slice(0, BASELINE_CERTS);
  const ca = new X509Certificate(await readFile(caFile, 'utf8'));
  const started = performance.now();
  for (const row of rows) {
    const cert = new X509Certificate(await readFile(row.certFile, 'utf8'));
    const key = createPrivateKey(await readFile(row.keyFile, 'utf8'));
    const now = new Date();
    const ok =
      cert.checkPrivateKey(key) &&
      new Date(cert.validFrom) <= now &&
      now <= new Date(cert.validTo) &&
      cert.verify(ca.publicKey);
    if (!ok) throw new Error(`baseline check failed for ${row.deviceId}`);
  }
  return rows.length / ((performance.now() - started) / 1000);
}

/** Client CPU per mutual-TLS connect to `broker`, TLS 1.2 and 1.3. */
async function connectRows(
  broker: RunningMosquitto,
  caCert: string,
  devices: Awaited<ReturnType<typeof readManifest>>,
): Promise<string[][]> {
  const caPem = await readFile(caCert, 'utf8');
  const rows: string[][] = [];
  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    const c = await measureConnectCpu(broker, caPem, devices, version);
    const ms = (v: number) => `${v.toFixed(2)} ms`;
    const base = `${ms(c.perConnectOptionsMs)} (cert/key options per connect)`;
    rows.push(
      [
        `${version} connect CPU, cached per-device context`,
        ms(c.cachedContextMs),
        base,
        `${(c.cachedContextMs / c.perConnectOptionsMs).toFixed(2)}x`,
      ],
      [`${version} per-device context, built once before`, ms(c.contextBuildMs), '-', '-'],
      [
        `${version} resumed reconnect, own session (${c.resumed}/${c.devices} resumed)`,
        ms(c.resumedMs),
        base,
        `${(c.resumedMs / c.perConnectOptionsMs).toFixed(2)}x`,
      ],
    );
  }
  return rows;
}

/**
 * Run-time minting (`identity.mint`) of the same fleet, in memory on the same threads, against
 * the file-based `certs init` rate of this run; then with each device's secure context too.
 */
async function mintRows(
  layout: { caCert: string; caKey: string },
  devices: number,
  threads: number,
  filesRate: number,
): Promise<string[][]> {
  const rows: string[][] = [];
  for (const contexts of [false, true]) {
    const m = await measureMintPreparation(layout, devices, threads, contexts);
    const perSec = m.minted / (m.wallMs / 1000);
    log(`mint preparation${contexts ? ' + contexts' : ''}: ${perSec.toFixed(0)}/s`);
    rows.push([
      contexts
        ? `identity.mint preparation of ${devices}: minted + secure context each ` +
          `(${threads} workers)`
        : `identity.mint of ${devices} devices in memory, no files (${threads} workers)`,
      `${perSec.toFixed(0)} devices/s, ${(m.wallMs / 1000).toFixed(1)} s, ` +
        `${(m.cpuMs / m.minted).toFixed(2)} ms CPU each`,
      `${filesRate.toFixed(0)} certs/s (certs init, files, this run)`,
      `${(perSec / filesRate).toFixed(2)}x`,
    ]);
  }
  return rows;
}

/**
 * RSS per held connection of `fleetbench run` with a minted certificate per device (contexts
 * kept, and released after the handshake) against one shared certificate, same broker.
 */
async function memoryRows(
  broker: RunningMosquitto,
  layout: { dir: string; caCert: string; caKey: string },
  devices: number,
): Promise<string[][]> {
  const held = await measureHeldMemory({
    target: broker.url,
    certsDir: layout.dir,
    caCert: layout.caCert,
    caKey: layout.caKey,
    devices,
  });
  const shared = held.find((h) => h.way === 'shared');
  if (shared === undefined) return [];
  const kb = (v: number) => `${v.toFixed(1)} KB`;
  return held
    .filter((h) => h !== shared)
    .map((h) => [
      `RSS per held connection, own minted certificate, ` +
        `contexts: ${h.way === 'mint-keep' ? 'keep' : 'release'} ` +
        `(${h.connected}/${h.devices} held)`,
      `${kb(h.rssPerDeviceKb)}, +${kb(h.rssPerDeviceKb - shared.rssPerDeviceKb)} ` +
        `(target <= +10 KB)`,
      `${kb(shared.rssPerDeviceKb)} (one shared certificate, ${shared.connected} held, this run)`,
      `${(h.rssPerDeviceKb / shared.rssPerDeviceKb).toFixed(2)}x`,
    ]);
}

/**
 * The figures measured against a broker: connect CPU, then held memory, both against one
 * Mosquitto (a mutual-TLS listener on the set's broker certificate) started for them.
 */
async function brokerRows(
  layout: { dir: string; caCert: string; caKey: string; serverCert: string; serverKey: string },
  connectDevices: Awaited<ReturnType<typeof readManifest>>,
  memoryDevices: number,
): Promise<string[][]> {
  const broker = await startMosquitto({
    caFile: layout.caCert,
    certFile: layout.serverCert,
    keyFile: layout.serverKey,
  });
  try {
    const connect = await connectRows(broker, layout.caCert, connectDevices);
    const memory = await memoryRows(broker, layout, memoryDevices);
    return [...connect, ...memory];
  } finally {
    await broker.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      devices: { type: 'string', default: '100000' },
      dir: { type: 'string' },
      'memory-devices': { type: 'string', default: String(MEMORY_DEVICES) },
    },
  });
  const devices = Number(values.devices);
  const dir = await mkdtemp(join(values.dir ?? tmpdir(), 'fleetbench-identity-bench-'));
  try {
    const baseline = await baselineRate();
    log(`baseline @peculiar/x509, 1 thread: ${baseline.toFixed(0)} certificates/s`);
    const set = await initDeviceSet({ dir, devices, idTemplate: 'dev-{i}' });
    const rate = set.devices / (set.elapsedMs / 1000);
    const checkBaseline = await baselineCheckRate(set.manifest, set.layout.caCert);
    const caPem = await readFile(set.layout.caCert, 'utf8');
    const devicesToCheck = await readManifest(set.manifest);
    const scope = { validity: true, chain: true };
    const pre = await preflightDevices([
      { setting: 'bench', caPem, devices: devicesToCheck, scope },
    ]);
    if (pre.problems.length > 0) throw new Error('preflight found problems in a fresh set');
    const preRate = pre.devices / (pre.elapsedMs / 1000);
    const rows = [
      ['figure', 'value', 'baseline', 'ratio'],
      [
        `certs init --devices ${devices} (${set.threads} threads)`,
        `${rate.toFixed(0)} certs/s, ${(set.elapsedMs / 1000).toFixed(1)} s`,
        `${baseline.toFixed(0)} certs/s (@peculiar/x509, 1 thread)`,
        `${(rate / baseline).toFixed(1)}x`,
      ],
      [
        `preflight of ${pre.devices} devices (${pre.threads} threads)`,
        `${(pre.elapsedMs / 1000).toFixed(1)} s, ${preRate.toFixed(0)} devices/s`,
        `${checkBaseline.toFixed(0)} devices/s (X509Certificate + createPrivateKey, 1 thread)`,
        `${(preRate / checkBaseline).toFixed(1)}x`,
      ],
    ];
    rows.push(...(await mintRows(set.layout, devices, set.threads, rate)));
    const connectDevices = devicesToCheck.slice(0, CONNECT_DEVICES);
    rows.push(...(await brokerRows(set.layout, connectDevices, Number(values['memory-devices']))));
    process.stdout.write(`${rows.map((r) => r.join(' | ')).join('\n')}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exitCode = 1;
});
