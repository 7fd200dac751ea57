/**
 * Group behaviours in one MQTT 5 run against Mosquitto 2: two controllers commanding receivers
 * at QoS 2 (persistent sessions with session expiry, JSON responses), sensors publishing
 * retained telemetry with user properties to `{group}`/`{seq}` topics, with wills, and a
 * monitor. Exactly once holds for commands through a storm of the sensors; the wills and the
 * retained messages brought by resubscribing are counted apart from the accounting.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mosquittoSuite } from '../helpers/mosquitto-suite.js';
import { counter, histogramCount, runScenario } from '../helpers/run.js';

describe('group behaviours over MQTT 5 against Mosquitto 2', async () => {
  const suite = await mosquittoSuite();

  test(
    'QoS 2 commands exactly once, wills counted, retained telemetry kept out of accounting',
    {
      skip: suite.skip,
    },
    async () => {
      const { report } = await runScenario(
        {
          name: 'behaviours-v5',
          target: suite.broker.url,
          devices: 40,
          workers: 2,
          mqtt: { version: 5 },
          traffic: { qos: 1, intervalMs: 250 },
          groups: [
            {
              name: 'ctl',
              devices: 2,
              behaviour: 'controller',
              qos: 2,
              controller: { ratePerSec: 40 },
              userProperties: { role: 'backend' },
            },
            { name: 'mon', devices: 1, behaviour: 'monitor', qos: 1 },
            {
              name: 'act',
              devices: 17,
              behaviour: 'commands',
              qos: 2,
              cleanSession: false,
              sessionExpirySec: 30,
              payloadTemplate: '{"ok":true,"device":"{deviceId}","seq":{seq}}',
            },
            {
              name: 'sensors',
              devices: 20,
              topic: 'fb/{group}/{deviceId}/{seq}',
              retain: true,
              userProperties: { site: 'lab' },
              will: { topic: 'fb/{deviceId}/will', qos: 1 },
            },
          ],
          phases: [
            { name: 'ramp', type: 'ramp', ratePerSec: 200 },
            { name: 'before', type: 'steady', durationSec: 2 },
            { name: 'outage', type: 'storm', groups: ['sensors'] },
            { name: 'after', type: 'steady', durationSec: 1 },
          ],
          reconnect: { initialDelayMs: 100, maxDelayMs: 500 },
          thresholds: ['commands.lost == 0', 'commands.qos2.duplicated == 0'],
          drainMs: 3000,
        },
        suite.pki.dir,
      );
      const n = (key: string) => counter(report, key);
      assert.equal(report.partial, null);
      assert.equal(n('connect.ok'), 40);
      assert.deepEqual(report.accounting?.errors ?? [], []);
      assert.ok(
        report.thresholds?.every((t) => t.ok),
        JSON.stringify(report.thresholds),
      );

      // Commands: both legs at QoS 2, so each one answered exactly once (or cut short by its
      // receiver's end), none lost; the two controllers shared the receivers.
      const sent = n('commands.qos2.published');
      assert.ok(sent >= 100, `commands ${sent}`);
      assert.equal(n('commands.qos2.received') + n('commands.qos2.interrupted'), sent);
      for (const kind of ['lost', 'duplicated', 'unmatched', 'failed']) {
        assert.equal(n(`commands.${kind}`), 0, `commands.${kind}`);
      }
      assert.equal(histogramCount(report, 'commandRoundtrip'), n('commands.received'));

      // The storm dropped the 20 sensors only; each will reached the monitor.
      assert.equal(n('storm.dropped'), 20);
      assert.equal(n('reconnect.ok'), 20);
      assert.equal(n('wills.received'), 20);

      // Sensors publish retained messages to a topic per sequence number: resubscribing after
      // the storm brings them back flagged as retained, which leaves the accounting alone.
      assert.ok(n('messages.retained') >= 20, `retained ${n('messages.retained')}`);
      for (const kind of ['lost', 'duplicated', 'unmatched']) {
        assert.equal(n(`messages.${kind}`), 0, `messages.${kind}`);
      }
      assert.ok(n('fanIn.received') > 0);
      assert.equal(histogramCount(report, 'groups.mon.fanIn'), n('groups.mon.fanIn.received'));
    },
  );
});
