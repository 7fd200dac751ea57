import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

test('identity: mint, platform, pkcs12, mapped manifest resolve with their files', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fleetbench-sources-'));
  try {
    // The platform download extracted into `dir`: dir/common_certs/{root_ca,common}.crt ...
    await mkdir(join(dir, 'common_certs'));
    await writeFile(join(dir, 'common_certs', 'common.crt'), '');
    const plan = planScenario(
      {
        name: 's',
        devices: 4,
        identity: { mint: { caKey: '/pki/ca.key' }, ca: '/pki/ca.crt', passphraseEnv: 'CA_PASS' },
        groups: [
          { name: 'minted', devices: 1 },
          { name: 'platform', devices: 1, identity: { platform: dir } },
          { name: 'p12', devices: 1, identity: { pkcs12: '/x/d.p12', passphraseFile: '/x/pw' } },
          {
            name: 'csv',
            devices: 1,
            identity: { manifest: '/x/devices.csv', columns: { deviceId: 'Device Number' } },
          },
        ],
      },
      source,
    );
    const [minted, platform, p12, csv] = plan.groups.map((g) => g.identity);
    assert.equal(minted?.source, 'mint');
    assert.deepEqual(minted?.mint, {
      caFile: '/pki/ca.crt',
      caKeyFile: '/pki/ca.key',
      validityDays: 30,
    });
    assert.deepEqual(minted?.passphrase, { env: 'CA_PASS' });
    assert.equal(platform?.source, 'platform');
    assert.equal(platform?.mint, null, "a group's own source replaces the inherited mint");
    assert.equal(platform?.caFile, '/pki/ca.crt', 'an explicit ca wins over root_ca.crt');
    assert.equal(platform?.certFile, join(dir, 'common_certs', 'common.crt'));
    assert.equal(platform?.keyFile, join(dir, 'common_certs', 'common.key'));
    assert.equal(p12?.pkcs12File, '/x/d.p12');
    assert.deepEqual(p12?.passphrase, { file: '/x/pw' }, 'its own passphrase source wins');
    assert.equal(csv?.columns.deviceId, 'Device Number');
    assert.equal(csv?.columns.cert, 'cert', 'the other columns keep our names');
    const alone = planScenario({ name: 's', devices: 1, identity: { platform: dir } }, source);
    assert.equal(alone.identity.caFile, join(dir, 'common_certs', 'root_ca.crt'));
    assert.equal(alone.identity.defaultFiles, false);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('identity sources that contradict each other are named, each with its path', () => {
  const problems = problemsOf({
    name: 's',
    devices: 3,
    identity: {
      mint: { caKey: 'ca.key' },
      pkcs12: 'd.p12',
      passphraseEnv: 'A',
      passphraseFile: 'f',
    },
    groups: [
      { name: 'a', devices: 1, identity: { columns: { cert: 'certificate' } } },
      { name: 'c', devices: 1, identity: { manifest: 'm.csv', columns: { cert: 'crt' } } },
      { name: 'b', devices: 1, identity: { platform: 'common_certs.zip' } },
    ],
  });
  assert.deepEqual(problems, [
    'identity has mint and pkcs12: give one source of device certificates in test.yaml',
    'identity has passphraseEnv and passphraseFile: give one in test.yaml',
    'groups[0].identity.columns needs groups[0].identity.manifest ' +
      '(the CSV whose columns it names) in test.yaml',
    'groups[2].identity.platform must be the extracted directory, not the archive ' +
      '(got "common_certs.zip"): unzip it and name the folder with root_ca.crt, common.crt ' +
      'and common.key in test.yaml',
  ]);
  assert.match(
    problemsOf({ name: 's', devices: 1, identity: { mint: { caKey: 'k' }, cert: 'c.crt' } }).join(),
    /identity\.cert cannot be combined with identity\.mint/,
  );
  assert.match(
    problemsOf({ name: 's', devices: 1, identity: { passphraseEnv: 'not a name' } }).join(),
    /identity\.passphraseEnv: must be an environment variable name/,
  );
});
