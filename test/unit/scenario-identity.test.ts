import assert from 'node:assert/strict';
import { test } from 'node:test';

import { FleetbenchError } from '../../src/errors.js';
import { planScenario } from '../../src/scenario/load.js';

const source = { file: null, sha256: null, label: 'test.yaml', certsDir: '/certs' };

function problemsOf(raw: Record<string, unknown>): string[] {
  try {
    planScenario(raw, source);
  } catch (err) {
    assert.ok(err instanceof FleetbenchError);
    return err.problems;
  }
  return [];
}

test('a group inherits the top-level identity key by key, defaults included', () => {
  const plan = planScenario(
    {
      name: 's',
      devices: 4,
      identity: { manifest: 'devices.csv', contexts: 'release', deviceId: 'd{i}' },
      groups: [
        { name: 'a', devices: 2 },
        { name: 'b', devices: 2, identity: { cert: 'b.crt', key: 'b.key' } },
      ],
    },
    source,
  );
  const [a, b] = plan.groups;
  assert.equal(a?.identity.manifestFile, `${process.cwd()}/devices.csv`);
  assert.equal(b?.identity.manifestFile, null, "a group's own certificate replaces the manifest");
  assert.equal(b?.identity.contexts, 'release');
  assert.equal(b?.identity.deviceId, 'd{i}', 'not reset to the default template');
  assert.equal(a?.publishTopic, null);
});

test('a manifest with a shared cert or key beside it is a mistake, named with its path', () => {
  assert.deepEqual(
    problemsOf({ name: 's', devices: 1, identity: { manifest: 'm.csv', key: 'k' } }),
    ['identity.key cannot be combined with identity.manifest (got "k") in test.yaml'],
  );
});

test('publishTopic: a template like traffic.topic, without wildcards, only with traffic', () => {
  const groups = (publishTopic: string) => [
    { name: 'a', devices: 1 },
    { name: 'b', devices: 1, publishTopic },
  ];
  const ok = planScenario({ name: 's', devices: 2, groups: groups('fleet/{deviceId}/x') }, source);
  assert.equal(ok.groups[1]?.publishTopic, 'fleet/{deviceId}/x');
  assert.match(
    problemsOf({ name: 's', devices: 2, groups: groups('fleet/#') }).join(),
    /groups\[1\]\.publishTopic must not contain wildcards/,
  );
  assert.match(
    problemsOf({ name: 's', devices: 2, groups: groups('{nope}') }).join(),
    /unknown placeholder \{nope\}/,
  );
  assert.match(
    problemsOf({ name: 's', devices: 2, traffic: false, groups: groups('x') }).join(),
    /groups\[1\]\.publishTopic needs traffic/,
  );
});
