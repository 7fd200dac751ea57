/**
 * Per-device TLS session resumption against Mosquitto 2 with `use_identity_as_username` and an
 * ACL that lets each device use only the topics under its own id. After a storm drops every
 * connection, every reconnect resumes the device's own session (counted exactly, TLS 1.3 and
 * 1.2), and each device still reaches only its own topics while impostors are still refused:
 * the broker saw each device's own certificate, which a shared session would have broken.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import type { ReportDocument } from '../../src/report/document.js';
import { ownTopicFleetSuite } from '../helpers/mosquitto-suite.js';
import { counter, histogramCount, runScenario } from '../helpers/run.js';

const DEVICES = 100;
const IMPOSTORS = 4;
const NOT_AUTHORIZED = 135;

function phaseCounter(report: ReportDocument, name: string, key: string): number {
  const phase = report.phases?.find((p) => p.name === name);
  return phase?.metrics.counters[key] ?? assert.fail(`no ${key} in phase ${name}`);
}

describe('TLS session resumption per device on Mosquitto 2 (own-topic ACL)', async () => {
  const fleet = await ownTopicFleetSuite(DEVICES);
  const { skip } = fleet;

  const scenario = (tls: Record<string, unknown>) => ({
    name: 'resumption',
    target: fleet.broker.url,
    devices: DEVICES,
    workers: 2,
    identity: { manifest: fleet.set.manifest },
    tls,
    mqtt: { version: 5 },
    connect: { ratePerSec: 400, maxInFlight: 48 },
    traffic: { topic: 'fleet/{deviceId}/telemetry', qos: 1, intervalMs: 250 },
    reconnect: { initialDelayMs: 50, maxDelayMs: 500, jitter: 0.5, maxAttempts: 20 },
    groups: [
      { name: 'fleet', devices: DEVICES - IMPOSTORS },
      { name: 'impostor', devices: IMPOSTORS, publishTopic: 'fleet/dev-0001/telemetry' },
    ],
    phases: [
      { name: 'up', type: 'ramp' },
      { name: 'before', type: 'steady', durationSec: 0.5 },
      { name: 'outage', type: 'storm', maxDurationSec: 20 },
      { name: 'after', type: 'steady', durationSec: 1 },
    ],
    drainMs: 2000,
  });

  for (const maxVersion of ['TLSv1.3', 'TLSv1.2'] as const) {
    test(
      `${maxVersion}: after a storm every reconnect resumes the device's own session`,
      { skip },
      async () => {
        const { report } = await runScenario(scenario({ maxVersion }), fleet.pki.dir);
        assert.equal(report.partial, null);
        assert.equal(counter(report, 'connect.ok'), DEVICES);
        assert.equal(counter(report, 'storm.dropped'), DEVICES);
        assert.equal(counter(report, 'reconnect.ok'), DEVICES, 'every device came back');
        assert.equal(counter(report, 'tls.full'), DEVICES, 'first connects are full handshakes');
        assert.equal(counter(report, 'tls.resumed'), DEVICES, 'every reconnect resumed');
        assert.equal(counter(report, `tls.protocol.${maxVersion.replace('.', '_')}`), 2 * DEVICES);
        assert.equal(histogramCount(report, 'tlsFull'), DEVICES);
        assert.equal(histogramCount(report, 'tlsResumed'), DEVICES);

        // Each device subscribed to its own topic twice and got its own messages back after the
        // storm too; impostors publishing under dev-0001 are still refused by the ACL.
        assert.equal(counter(report, 'subscribe.ok'), 2 * DEVICES);
        assert.equal(counter(report, 'subscribe.failed'), 0);
        const published = counter(report, 'messages.published');
        const refused = counter(report, `groups.impostor.messages.refused.${NOT_AUTHORIZED}`);
        assert.ok(phaseCounter(report, 'after', 'messages.received') >= DEVICES - IMPOSTORS);
        const refusedAfter = phaseCounter(report, 'after', `messages.refused.${NOT_AUTHORIZED}`);
        assert.ok(refusedAfter >= IMPOSTORS, `impostors refused after the storm (${refusedAfter})`);
        assert.equal(counter(report, 'groups.fleet.messages.refused.135'), 0);
        // Publishes unacknowledged when the storm struck failed with their connection, like
        // the refusals; acknowledged ones whose copy was still on its way are interrupted.
        const failed = counter(report, 'messages.failed');
        const acked = counter(report, 'messages.acked');
        assert.ok(failed >= refused);
        assert.equal(acked, published - failed);
        const received = counter(report, 'messages.received');
        assert.equal(received + counter(report, 'messages.interrupted'), acked, 'own round trips');
        assert.equal(counter(report, 'messages.lost'), 0);
        assert.equal(counter(report, 'messages.unmatched'), 0, 'no device got a foreign message');
      },
    );
  }

  test('resumption off: every reconnect is a full handshake', { skip }, async () => {
    const base = scenario({ sessionResumption: false });
    const phases = [
      { name: 'up', type: 'ramp' },
      { name: 'outage', type: 'storm', maxDurationSec: 20 },
    ];
    const quiet = { ...base, traffic: false, groups: undefined, phases, drainMs: 0 };
    const { report } = await runScenario(quiet, fleet.pki.dir);
    assert.equal(counter(report, 'reconnect.ok'), DEVICES);
    assert.equal(counter(report, 'tls.resumed'), 0);
    assert.equal(counter(report, 'tls.full'), 2 * DEVICES);
  });
});
