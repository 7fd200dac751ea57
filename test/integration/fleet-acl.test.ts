/**
 * Authorisation per device, the way platforms set it up: Mosquitto takes each device's
 * username from its certificate (`use_identity_as_username`) and an ACL lets every device use
 * only the topics under its own id. 500 devices with their own certificates exchange messages;
 * a group that publishes under another device's id is refused, and the report counts each
 * refusal by its MQTT 5 reason code (135, 0x87 Not authorized).
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { ownTopicFleetSuite } from '../helpers/mosquitto-suite.js';
import { counter, runScenario } from '../helpers/run.js';

const DEVICES = 500;
const IMPOSTORS = 10;
const NOT_AUTHORIZED = 135;

describe('per-device ACL on Mosquitto 2 (use_identity_as_username, pattern %u)', async () => {
  const fleet = await ownTopicFleetSuite(DEVICES);

  test(
    '500 devices exchange messages; publishing under another id is refused and counted',
    { skip: fleet.skip },
    async () => {
      const scenario = {
        name: 'acl',
        target: fleet.broker.url,
        devices: DEVICES,
        workers: 2,
        identity: { manifest: fleet.set.manifest },
        mqtt: { version: 5 },
        connect: { ratePerSec: 400, maxInFlight: 48 },
        traffic: { topic: 'fleet/{deviceId}/telemetry', qos: 1, intervalMs: 1000 },
        durationSec: 2,
        drainMs: 3000,
        groups: [
          { name: 'fleet', devices: DEVICES - IMPOSTORS },
          { name: 'impostor', devices: IMPOSTORS, publishTopic: 'fleet/dev-0001/telemetry' },
        ],
      };
      const { report } = await runScenario(scenario, fleet.pki.dir);
      assert.equal(report.partial, null);
      assert.equal(counter(report, 'connect.ok'), DEVICES, 'every device connects as itself');
      assert.equal(counter(report, 'subscribe.ok'), DEVICES, 'each may subscribe to its own topic');

      const published = counter(report, 'messages.published');
      const refused = counter(report, `groups.impostor.messages.refused.${NOT_AUTHORIZED}`);
      // Each impostor publishes at least once; how often depends on how late it connected on a
      // busy machine. That every one of its publishes was refused follows from the equalities.
      assert.ok(refused >= IMPOSTORS, `impostor publishes are refused (${refused})`);
      assert.equal(counter(report, `messages.refused.${NOT_AUTHORIZED}`), refused);
      assert.equal(counter(report, 'groups.fleet.messages.refused.135'), 0);
      assert.equal(
        counter(report, 'messages.received'),
        published - refused,
        'all own round trips',
      );
      assert.equal(
        counter(report, 'messages.unmatched'),
        0,
        'dev-0001 never got a foreign message',
      );
    },
  );
});
