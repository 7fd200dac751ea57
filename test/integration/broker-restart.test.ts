/**
 * The broker dies mid-run and comes back on the same port: Mosquitto 2 is killed (SIGKILL, by
 * the pid this test holds) and restarted while the real CLI runs. The run goes on; each lost
 * connection is counted; with a reconnect policy every device comes back, without one each
 * stays lost; the report is complete and its time series shows the gap.
 */

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import type { ReportDocument } from '../../src/report/document.js';
import { onlyReport, startCli, useCliWorkspace } from '../helpers/cli.js';
import { haveMosquitto, startMosquitto, type RunningMosquitto } from '../helpers/mosquitto.js';

const DEVICES = 60;
const ws = useCliWorkspace('restart');
const available = await haveMosquitto();
const skip = available ? false : 'mosquitto is not installed (.ci/run installs it)';

function scenario(url: string, reconnect: object | undefined): object {
  return {
    name: 'restart',
    target: url,
    devices: DEVICES,
    workers: 2,
    connect: { ratePerSec: 300, maxInFlight: 32 },
    traffic: { qos: 1, intervalMs: 250, payloadBytes: 32 },
    ...(reconnect ? { reconnect } : {}),
    phases: [
      { name: 'up', type: 'ramp' },
      { name: 'soak', type: 'steady', durationSec: 10 },
    ],
    drainMs: 1000,
  };
}

function startBroker(port?: number): Promise<RunningMosquitto> {
  const { caCert, serverCert, serverKey } = ws.pki.layout;
  return startMosquitto({ caFile: caCert, certFile: serverCert, keyFile: serverKey, port });
}

/**
 * Runs the scenario, kills the broker once every device is connected, restarts it on the same
 * port after the devices saw it go (plus `downMs`), and returns the report.
 */
async function runThroughRestart(reconnect: object | undefined, name: string, downMs: number) {
  let broker = await startBroker();
  const port = broker.port;
  try {
    const { args, out } = await ws.runArgs(scenario(broker.url, reconnect), name);
    const cli = startCli(args);
    await cli.waitForStderr(/soak\s+connected 60\/60 .*msg\/s out [1-9]/);
    process.kill(broker.pid, 'SIGKILL');
    await broker.stop();
    await cli.waitForStderr(/soak\s+connected 0\/60/);
    await sleep(downMs);
    broker = await startBroker(port);
    const exit = await cli.exited(60_000);
    assert.equal(exit.code, 0, exit.stderr);
    return await onlyReport(out);
  } finally {
    await broker.stop();
  }
}

/** Messages received in each interval of the report's time series. */
function receivedPerInterval(report: ReportDocument): number[] {
  const intervals = report.timeSeries?.intervals ?? assert.fail('the report has no time series');
  return intervals.map((i) => i.counters['messages.received'] ?? 0);
}

/** The first interval with nothing received after one with messages; -1 if none. */
function gapIn(received: number[]): number {
  return received.findIndex((r, i) => r === 0 && received.slice(0, i).some((x) => x > 0));
}

describe('the broker is killed and restarted mid-run', () => {
  test('with a reconnect policy every device comes back', { skip }, async () => {
    const policy = { initialDelayMs: 200, maxDelayMs: 800, jitter: 0.5, maxAttempts: 0 };
    const report = await runThroughRestart(policy, 'policy', 1500);

    assert.equal(report.partial, null, 'the run went on to its end');
    const c = report.metrics.counters;
    assert.equal(c['connect.ok'], DEVICES);
    assert.equal(c['connection.lost'], DEVICES, 'each device lost its connection once');
    assert.equal(c['reconnect.ok'], DEVICES, 'and came back');
    assert.ok((c['reconnect.failed.tcp'] ?? 0) > 0, 'attempts while the broker was down failed');
    assert.equal(c['reconnect.gaveUp'] ?? 0, 0);
    assert.equal(report.metrics.latency.downtime?.count, DEVICES);
    assert.equal(report.metrics.gauges['devices.connected'], 0, 'all disconnected at the end');

    // The gap in the time series: messages, at least one interval of none, messages again.
    const received = receivedPerInterval(report);
    const gap = gapIn(received);
    assert.ok(gap > 0, `no gap in ${JSON.stringify(received)}`);
    assert.ok(
      received.slice(gap).some((r) => r > 0),
      JSON.stringify(received),
    );
  });

  test('without a reconnect policy every device is counted as lost', { skip }, async () => {
    const report = await runThroughRestart(undefined, 'nopolicy', 500);

    assert.equal(report.partial, null, 'the run went on to its end');
    const c = report.metrics.counters;
    assert.equal(c['connect.ok'], DEVICES);
    assert.equal(c['connection.lost'], DEVICES);
    assert.equal(c['reconnect.attempted'] ?? 0, 0);
    assert.ok(report.failures.some((f) => f.category === 'closed' && f.count === DEVICES));

    // Messages, then none for the rest of the run: nobody came back.
    const received = receivedPerInterval(report);
    const gap = gapIn(received);
    assert.ok(gap > 0, `no gap in ${JSON.stringify(received)}`);
    assert.ok(
      received.slice(gap).every((r) => r === 0),
      JSON.stringify(received),
    );
  });
});
