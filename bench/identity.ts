/**
 * `node dist/bench/identity.js [--devices 100000] [--dir DIR]`: the fleet-identity figures of
 * issue 3, each beside a baseline measured in the same run.
 *
 * - certificates/s of `certs init --devices N` (both cores, Node's crypto) against
 *   @peculiar/x509's `issueDeviceCert` on one thread (the library path it replaces).
 *
 * Writes the set into a temp directory (or `--dir`'s parent) and deletes it afterwards.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { initDeviceSet } from '../src/fleet/device-set.js';
import { createCa, issueDeviceCert } from '../src/fleet/pki.js';

const BASELINE_CERTS = 300;

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

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { devices: { type: 'string', default: '100000' }, dir: { type: 'string' } },
  });
  const devices = Number(values.devices);
  const dir = await mkdtemp(join(values.dir ?? tmpdir(), 'fleetbench-identity-bench-'));
  try {
    const baseline = await baselineRate();
    log(`baseline @peculiar/x509, 1 thread: ${baseline.toFixed(0)} certificates/s`);
    const set = await initDeviceSet({ dir, devices, idTemplate: 'dev-{i}' });
    const rate = set.devices / (set.elapsedMs / 1000);
    const rows = [
      ['figure', 'value', 'baseline', 'ratio'],
      [
        `certs init --devices ${devices} (${set.threads} threads)`,
        `${rate.toFixed(0)} certs/s, ${(set.elapsedMs / 1000).toFixed(1)} s`,
        `${baseline.toFixed(0)} certs/s (@peculiar/x509, 1 thread)`,
        `${(rate / baseline).toFixed(1)}x`,
      ],
    ];
    process.stdout.write(`${rows.map((r) => r.join(' | ')).join('\n')}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exitCode = 1;
});
