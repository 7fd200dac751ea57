/**
 * Group behaviours in a scenario: validation of bad group settings (each problem naming the
 * file, the setting, the value), their resolution into the plan, and the plan's lines.
 */

import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { FleetbenchError } from '../../src/errors.js';
import { loadScenario, planScenario } from '../../src/scenario/load.js';
import { describePlan } from '../../src/scenario/plan.js';
import {
  compileTemplate,
  filterProblem,
  topicMatches,
  wildcardFilter,
} from '../../src/scenario/template.js';

const BASE = { name: 'groups', devices: 10, target: 'mqtts://127.0.0.1:8883' };
const CONTROLLED = [
  { name: 'backend', devices: 1, behaviour: 'controller' },
  { name: 'actuators', share: 1, behaviour: 'commands' },
];

function plan(scenario: Record<string, unknown>) {
  return planScenario({ ...BASE, ...scenario }, { file: null, sha256: null, label: 'x.yaml' });
}

function problems(scenario: Record<string, unknown>): string[] {
  try {
    plan(scenario);
  } catch (err) {
    assert.ok(err instanceof FleetbenchError);
    assert.equal(err.code, 'E_SCENARIO');
    return err.problems;
  }
  return assert.fail('expected a validation error');
}

describe('group behaviours: validation', () => {
  test('an unknown behaviour names the group, the value and the file', () => {
    const p = problems({ groups: [{ name: 'a', share: 1, behaviour: 'blinker' }] });
    assert.equal(p.length, 1);
    assert.match(
      p[0] ?? '',
      /^groups\[0\]\.behaviour: .*"telemetry".*\(got "blinker"\) in x\.yaml$/,
    );
  });

  test('QoS 3 is refused with the allowed values', () => {
    const p = problems({ groups: [{ name: 'a', share: 1, qos: 3 }] });
    assert.deepEqual(p, ['groups[0].qos: must be 0, 1 or 2 (got 3) in x.yaml']);
  });

  test('a commands group with no controller says what to add', () => {
    const p = problems({ groups: [{ name: 'act', share: 1, behaviour: 'commands' }] });
    assert.equal(p.length, 1);
    assert.match(p[0] ?? '', /groups\[0\] \(act\) has behaviour commands but no controller/);
    assert.match(p[0] ?? '', /add a group with behaviour: controller/);
  });

  test('a controller naming a group that is not a commands group', () => {
    const groups = [
      { name: 'backend', devices: 1, behaviour: 'controller', controller: { receivers: ['x'] } },
      { name: 'act', share: 1, behaviour: 'commands' },
    ];
    const p = problems({ groups });
    assert.ok(p.some((l) => /groups\[0\]\.controller\.receivers\[0\] .*"x": no group/.test(l)));
    assert.ok(
      p.some((l) => /groups\[1\] \(act\) has behaviour commands but no controller/.test(l)),
    );
  });

  test('a template with an unknown placeholder names the setting and the choices', () => {
    const p = problems({ groups: [{ name: 'a', share: 1, topic: 'fb/{serial}/t' }] });
    assert.equal(p.length, 1);
    assert.match(p[0] ?? '', /^groups\[0\]\.topic uses unknown placeholder \{serial\}/);
    const hint = problems({
      groups: [{ name: 'a', share: 1, payloadTemplate: '{"d":"{nope}"}' }],
    });
    assert.match(hint[0] ?? '', /groups\[0\]\.payloadTemplate uses unknown placeholder \{nope\}/);
  });

  test('every other bad group setting is reported at once, each with its path', () => {
    const p = problems({
      groups: [
        { name: 'a', devices: 4, topic: 'fb/dev-{seq}/t', payloadTemplate: '[1, 2]' },
        { name: 'b', devices: 3, sessionExpirySec: 60, userProperties: { k: 'v' } },
        { name: 'm', devices: 3, behaviour: 'monitor', monitor: { filters: ['fb/#/x'] } },
      ],
    });
    const expected = [
      /^groups\[0\]\.topic needs each placeholder as a whole topic level/,
      /^groups\[0\]\.payloadTemplate must be a JSON object once rendered/,
      /^groups\[1\]\.sessionExpirySec needs mqtt\.version 5 \(got 60\)/,
      /^groups\[1\]\.userProperties needs mqtt\.version 5/,
      /^groups\[2\]\.monitor\.filters\[0\]: # must be the last level on its own \(got "fb\/#\/x"\)/,
    ];
    for (const re of expected)
      assert.ok(
        p.some((l) => re.test(l)),
        `${re} in ${p.join('\n')}`,
      );
    assert.equal(p.length, expected.length, p.join('\n'));
  });

  test('a monitor with nothing to monitor is told to give its filters', () => {
    const p = problems({
      groups: [
        ...CONTROLLED.slice(0, 1),
        { name: 'a', devices: 1, behaviour: 'commands' },
        { name: 'm', share: 1, behaviour: 'monitor' },
      ],
    });
    assert.deepEqual(p, [
      'groups[2] (m) has behaviour monitor but nothing to monitor: ' +
        'no telemetry group and no will (give monitor.filters) in x.yaml',
    ]);
  });

  test('keys of another behaviour, and a storm naming no group, are refused', () => {
    const p = problems({
      groups: [{ name: 'a', share: 1, monitor: { filters: ['x/+'] } }],
      phases: [
        { name: 'r', type: 'ramp' },
        { name: 's', type: 'storm', groups: ['b'] },
      ],
    });
    assert.ok(
      p.includes('groups[0].monitor needs behaviour: monitor (got behaviour telemetry) in x.yaml'),
    );
    assert.ok(
      p.some((l) => /^phases\[1\]\.groups\[0\] names no group \(got "b"/.test(l)),
      p.join(),
    );
  });
});

describe('group behaviours: the plan', () => {
  test('defaults come from traffic and mqtt; a controller commands every commands group', () => {
    const p = plan({
      mqtt: { version: 5, keepaliveSec: 30 },
      traffic: { qos: 2, payloadBytes: 32 },
      groups: [
        ...CONTROLLED,
        { name: 'mon', devices: 1, behaviour: 'monitor', retain: false },
        {
          name: 'sensors',
          devices: 2,
          topic: 'fb/{group}/{deviceId}/{seq}',
          will: { topic: 'fb/{deviceId}/status' },
          sessionExpirySec: 300,
          cleanSession: false,
          userProperties: { site: 'lab' },
        },
      ],
    });
    const [backend, actuators, mon, sensors] = p.groups;
    assert.deepEqual(backend?.traffic?.controller, { receivers: [1], ratePerSec: 10 });
    assert.equal(backend?.traffic?.payloadBytes, 32);
    assert.deepEqual(actuators?.traffic?.commands, {
      topic: 'fleetbench/{deviceId}/commands',
      responseTopic: 'fleetbench/{controllerId}/responses/{deviceId}',
    });
    assert.equal(actuators?.session.keepaliveSec, 30);
    assert.equal(actuators?.traffic?.qos, 2);
    assert.deepEqual(mon?.traffic?.monitor, {
      filters: ['fb/+/+/+'],
      willFilters: ['fb/+/status'],
    });
    assert.deepEqual(sensors?.session, {
      clean: false,
      sessionExpirySec: 300,
      keepaliveSec: 30,
      will: {
        topic: 'fb/{deviceId}/status',
        payload: '{"deviceId":"{deviceId}","status":"offline"}',
        qos: 1,
        retain: false,
      },
      userProperties: { site: 'lab' },
    });
  });

  test('validate prints one line per group with its behaviour', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fleetbench-groups-'));
    const file = path.join(dir, 's.json');
    await writeFile(
      file,
      JSON.stringify({
        ...BASE,
        groups: [
          ...CONTROLLED,
          { name: 'm', devices: 1, behaviour: 'monitor' },
          { name: 't', devices: 1 },
        ],
      }),
    );
    const lines = describePlan(await loadScenario(file)).filter((l) => l.startsWith('  group '));
    assert.equal(lines.length, 4);
    assert.match(
      lines[0] ?? '',
      /^ {2}group backend: 1 devices, controller: 10 commands\/s each to actuators at QoS 1/,
    );
    assert.match(
      lines[1] ?? '',
      new RegExp(
        /^ {2}group actuators: 7 devices, commands: receivers at QoS 1 /.source +
          /on fleetbench\/\{deviceId\}\/commands/.source,
      ),
    );
    assert.match(
      lines[2] ?? '',
      /^ {2}group m: 1 devices, monitor of fleetbench\/\+\/telemetry at QoS 1/,
    );
  });
});

describe('topic filters from templates', () => {
  const t = compileTemplate('fb/{group}/{deviceId}/{seq}', ['group', 'deviceId', 'seq'], 'topic');

  test('placeholders not given become +; each must be a whole level', () => {
    assert.equal(wildcardFilter(t, { group: 'g', deviceId: 'd' }, 'topic'), 'fb/g/d/+');
    assert.equal(wildcardFilter(t, {}, 'topic'), 'fb/+/+/+');
    const inner = compileTemplate('fb/dev-{i}', ['i'], 'topic');
    assert.throws(() => wildcardFilter(inner, {}, 'topic'), /whole topic level/);
  });

  test('MQTT filter rules and matching', () => {
    assert.equal(filterProblem('a/+/#'), null);
    assert.match(filterProblem('a/#/b') ?? '', /last level/);
    assert.match(filterProblem('a/b+') ?? '', /whole level/);
    assert.ok(topicMatches('a/+/c', 'a/b/c'));
    assert.ok(topicMatches('a/#', 'a/b/c'));
    assert.ok(!topicMatches('a/+', 'a/b/c'));
    assert.ok(!topicMatches('a/+/c', 'a/b/d'));
  });
});
