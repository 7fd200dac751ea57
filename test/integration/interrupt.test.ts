/**
 * Ctrl-C and SIGTERM against the real CLI, as a child process: the first signal stops the run
 * gracefully (devices disconnect, the report is written and marked partial with the phase
 * reached, exit 130); a second one ends the workers at once and the report still holds what
 * they had sent. Time bounds are generous: they catch a hang, not a slow machine.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { onlyReport, startCli, useCliWorkspace, type CliExit } from '../helpers/cli.js';
import { haveMosquitto, startMosquitto, type RunningMosquitto } from '../helpers/mosquitto.js';

/** A run far longer than any test: only a signal ends it early. */
const LONG_RUN = {
  name: 'interrupt',
  devices: 60,
  workers: 2,
  connect: { ratePerSec: 200, maxInFlight: 32 },
  traffic: { qos: 1, intervalMs: 250, payloadBytes: 32 },
  durationSec: 300,
};

const ws = useCliWorkspace('interrupt');

/** Sends `signal` to the CLI and waits for its end, timing it. */
async function signalAndWait(
  cli: ReturnType<typeof startCli>,
  signal: NodeJS.Signals,
): Promise<CliExit & { ms: number }> {
  const t0 = Date.now();
  process.kill(cli.pid, signal);
  const exit = await cli.exited(30_000);
  return { ...exit, ms: Date.now() - t0 };
}

describe('interrupting a run on the embedded broker', () => {
  test('Ctrl-C in the steady phase: devices disconnect, a partial report, exit 130', async () => {
    const { args, out } = await ws.runArgs(LONG_RUN, 'sigint');
    const cli = startCli(args);
    await cli.waitForStderr(/steady\s+connected 60\/60 .*msg\/s out [1-9]/);
    const exit = await signalAndWait(cli, 'SIGINT');

    assert.equal(exit.code, 130, exit.stderr);
    assert.ok(exit.ms < 10_000, `graceful stop took ${exit.ms} ms`);
    assert.match(exit.stderr, /SIGINT: stopping: devices disconnect/);
    assert.match(exit.stdout, /PARTIAL: stopped \(interrupted\) during steady/);
    assert.match(exit.stderr, /report written to .*interrupt-\d{8}-\d{6}\.json/);

    const report = await onlyReport(out);
    assert.deepEqual(report.partial, { reason: 'interrupted', phase: 'steady' });
    assert.equal(report.metrics.counters['connect.ok'], 60);
    // Every device was disconnected before the last snapshot.
    assert.equal(report.metrics.gauges['devices.connected'], 0);
    const published = report.metrics.counters['messages.published'] ?? 0;
    assert.ok(published > 0);
    // The drain waited for the messages in flight (bounded, so a busy machine may miss a few).
    const received = report.metrics.counters['messages.received'] ?? 0;
    assert.ok(received <= published && published - received <= 60, `${received}/${published}`);
  });

  test('SIGTERM in the ramp: the report says ramp', async () => {
    const slowRamp = { ...LONG_RUN, devices: 200, connect: { ratePerSec: 10, maxInFlight: 8 } };
    const { args, out } = await ws.runArgs(slowRamp, 'sigterm');
    const cli = startCli(args);
    await cli.waitForStderr(/ramp\s+connected [1-9]\d*\/200/);
    const exit = await signalAndWait(cli, 'SIGTERM');

    assert.equal(exit.code, 130, exit.stderr);
    assert.ok(exit.ms < 10_000, `graceful stop took ${exit.ms} ms`);
    const report = await onlyReport(out);
    assert.deepEqual(report.partial, { reason: 'interrupted', phase: 'ramp' });
    const ok = report.metrics.counters['connect.ok'] ?? 0;
    assert.ok(ok > 0 && ok < 200, `connect.ok ${ok}`);
    assert.equal(report.metrics.gauges['devices.connected'], 0);
  });
});

describe('a second Ctrl-C while the broker hangs', async () => {
  const available = await haveMosquitto();
  let broker: RunningMosquitto | undefined;
  before(async () => {
    if (!available) return;
    broker = await startMosquitto({
      caFile: ws.pki.layout.caCert,
      certFile: ws.pki.layout.serverCert,
      keyFile: ws.pki.layout.serverKey,
    });
  });
  after(async () => {
    if (broker) process.kill(broker.pid, 'SIGCONT');
    await broker?.stop();
  });

  test(
    'ends the workers at once and writes what they had sent',
    { skip: available ? false : 'mosquitto is not installed (.ci/run installs it)' },
    async () => {
      const mosquitto = broker as RunningMosquitto;
      const { args, out } = await ws.runArgs({ ...LONG_RUN, target: mosquitto.url }, 'twice');
      const cli = startCli(args);
      await cli.waitForStderr(/steady\s+connected 60\/60 .*msg\/s out [1-9]/);
      // A frozen broker answers nothing, so a graceful stop waits for its disconnect timeouts.
      process.kill(mosquitto.pid, 'SIGSTOP');
      try {
        process.kill(cli.pid, 'SIGINT');
        await cli.waitForStderr(/SIGINT: stopping/);
        const exit = await signalAndWait(cli, 'SIGINT');

        assert.equal(exit.code, 130, exit.stderr);
        assert.ok(exit.ms < 10_000, `forced stop took ${exit.ms} ms`);
        assert.match(exit.stderr, /SIGINT again: ending the workers now/);
        const report = await onlyReport(out);
        assert.deepEqual(report.partial, { reason: 'interrupted-at-once', phase: 'steady' });
        // Built from the interval snapshots: the ramp and the steady phase before the freeze
        // are there.
        assert.equal(report.metrics.counters['connect.ok'], 60);
        assert.ok((report.metrics.counters['messages.received'] ?? 0) > 0);
        assert.ok((report.metrics.latency.roundtrip?.count ?? 0) > 0);
        assert.equal(report.warnings.filter((w) => /was ended at once/.test(w)).length, 2);
      } finally {
        process.kill(mosquitto.pid, 'SIGCONT');
      }
    },
  );
});
