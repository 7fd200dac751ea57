/**
 * Identities imported as users hold them, against Mosquitto 2: a device CSV of another tool
 * with its own column names and a PKCS#12 file per device (the passphrase from the
 * environment), under an ACL that lets each device use only its own topics; then a platform
 * download (root_ca.crt, common.crt, common.key) and one shared legacy PKCS#12 file.
 */

import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { DeviceMinter } from '../../src/fleet/mint.js';
import { mosquittoSuite, ownTopicFleetSuite } from '../helpers/mosquitto-suite.js';
import { runCli } from '../helpers/cli.js';
import { writePkcs12 } from '../helpers/pkcs12.js';
import { counter, runScenario } from '../helpers/run.js';

const DEVICES = 40;
const PASS_ENV = 'FLEETBENCH_TEST_IMPORT_PASS';

describe('imported identities against Mosquitto 2', async () => {
  /** Under the own-topic ACL: a device round-trips only with its own certificate's name. */
  const own = await ownTopicFleetSuite();
  /** Without an ACL, for identities shared by every device. */
  const open = await mosquittoSuite();
  const { skip } = own;
  before(() => {
    process.env[PASS_ENV] = 'mqtt.fx export';
  });
  after(() => {
    delete process.env[PASS_ENV];
  });

  test(
    'a foreign CSV with a PKCS#12 file per device: each connects as itself',
    { skip },
    async () => {
      const { pki } = own;
      const [caCert, caKey] = await Promise.all(
        [pki.layout.caCert, pki.layout.caKey].map((f) => readFile(f, 'utf8')),
      );
      const minter = new DeviceMinter(caCert ?? '', caKey ?? '');
      const dir = join(pki.dir, 'jmeter');
      await mkdir(dir);
      const lines = ['Device Number,Keystore'];
      for (let i = 1; i <= DEVICES; i++) {
        const id = `imp-${i}`;
        const minted = minter.mint(id);
        await writeFile(join(dir, `${id}.crt`), minted.certPem);
        await writeFile(join(dir, `${id}.key`), minted.keyPem, { mode: 0o600 });
        const legacy = i % 2 === 0;
        const p12 = join(dir, `${id}.p12`);
        await writePkcs12(join(dir, `${id}.crt`), join(dir, `${id}.key`), p12, 'mqtt.fx export', {
          legacy,
        });
        lines.push(`${id},${id}.p12`);
      }
      await writeFile(join(dir, 'devices.csv'), `${lines.join('\n')}\n`);
      const { report } = await runScenario(
        {
          name: 'imported',
          target: own.broker.url,
          devices: DEVICES,
          workers: 2,
          identity: {
            ca: pki.layout.caCert,
            manifest: join(dir, 'devices.csv'),
            columns: { deviceId: 'Device Number', pkcs12: 'Keystore' },
            passphraseEnv: PASS_ENV,
          },
          connect: { ratePerSec: 200, maxInFlight: 32 },
          traffic: { topic: 'fleet/{deviceId}/telemetry', qos: 1, intervalMs: 500 },
          durationSec: 1,
          drainMs: 2000,
        },
        pki.dir,
      );
      assert.equal(counter(report, 'connect.ok'), DEVICES);
      const published = counter(report, 'messages.published');
      assert.ok(published >= DEVICES);
      assert.equal(counter(report, 'messages.received'), published, 'the ACL saw each own CN');
      assert.equal(report.preparation?.contexts, DEVICES);
      assert.ok(report.preparation?.minted === undefined, 'nothing minted');
      const text = JSON.stringify(report);
      assert.ok(!text.includes('mqtt.fx export'), 'the passphrase is not in the report');
      assert.match(text, new RegExp(`"passphraseEnv":"${PASS_ENV}"`));

      // The same files through `certs check`, with and without the passphrase.
      const check = join(dir, 'check.csv');
      const ours = lines.map((l) => l.replace('Device Number,Keystore', 'device_id,pkcs12'));
      await writeFile(check, `${ours.join('\n')}\n`);
      const args = ['certs', 'check', '--manifest', check, '--ca', pki.layout.caCert];
      const ok = await runCli([...args, '--passphrase-env', PASS_ENV]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stderr, new RegExp(`checked ${DEVICES} device certificates .*all usable`));
      const locked = await runCli(args);
      assert.equal(locked.code, 4);
      assert.match(locked.stderr, new RegExp(`bad-passphrase: ${DEVICES} devices`));
    },
  );

  test('a platform download and a shared legacy PKCS#12 file connect', { skip }, async () => {
    const { pki } = open;
    const download = join(pki.dir, 'download', 'common_certs');
    await mkdir(download, { recursive: true });
    await writeFile(join(download, 'root_ca.crt'), await readFile(pki.layout.caCert));
    await writeFile(join(download, 'common.crt'), await readFile(pki.layout.deviceCert));
    await writeFile(join(download, 'common.key'), await readFile(pki.layout.deviceKey), {
      mode: 0o600,
    });
    const shared = join(pki.dir, 'shared.p12');
    await writePkcs12(pki.layout.deviceCert, pki.layout.deviceKey, shared, 'mqtt.fx export', {
      legacy: true,
    });
    const { report } = await runScenario(
      {
        name: 'platform',
        target: open.broker.url,
        devices: 20,
        workers: 2,
        // The folder the archive was extracted into; fleetbench finds common_certs/ in it.
        identity: { platform: join(pki.dir, 'download') },
        groups: [
          { name: 'platform', devices: 10 },
          {
            name: 'mqttfx',
            devices: 10,
            identity: { ca: pki.layout.caCert, pkcs12: shared, passphraseEnv: PASS_ENV },
          },
        ],
        connect: { ratePerSec: 200, maxInFlight: 32 },
        traffic: { qos: 1, intervalMs: 500 },
        durationSec: 1,
        drainMs: 2000,
      },
      pki.dir,
    );
    assert.equal(counter(report, 'groups.platform.connect.ok'), 10);
    assert.equal(counter(report, 'groups.mqttfx.connect.ok'), 10);
    assert.equal(counter(report, 'messages.received'), counter(report, 'messages.published'));
    const sources = (report.options.groups as { source: string }[]).map((g) => g.source);
    assert.deepEqual(sources, ['platform', 'pkcs12']);
  });
});
