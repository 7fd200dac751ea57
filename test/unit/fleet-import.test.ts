/**
 * Importing identities users already hold: PKCS#12 files (OpenSSL 3's and legacy ones, with
 * a passphrase), foreign device CSVs with their own column names, a platform download, and
 * the preflight of each: classes, counts, examples, and no secret in a message.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { FleetbenchError } from '../../src/errors.js';
import { loadGroupIdentities } from '../../src/fleet/group-identities.js';
import { parseManifest, type ManifestDevice } from '../../src/fleet/manifest.js';
import { DeviceMinter } from '../../src/fleet/mint.js';
import { decodePkcs12, Pkcs12Error } from '../../src/fleet/pkcs12.js';
import { preflightDevices } from '../../src/fleet/preflight.js';
import { planScenario } from '../../src/scenario/load.js';
import { writePkcs12 } from '../helpers/pkcs12.js';
import { makeTestPki, type TestPki } from '../helpers/pki.js';

const PASS = 'correct horse';

describe('importing identities', () => {
  let pki: TestPki;
  let minter: DeviceMinter;
  /** Writes a device's PEM files and returns their paths. */
  const device = async (id: string) => {
    const minted = minter.mint(id);
    const certFile = join(pki.dir, `${id}.crt`);
    const keyFile = join(pki.dir, `${id}.key`);
    await writeFile(certFile, minted.certPem);
    await writeFile(keyFile, minted.keyPem, { mode: 0o600 });
    return { certFile, keyFile, certPem: minted.certPem };
  };
  before(async () => {
    pki = await makeTestPki();
    const ca = [pki.layout.caCert, pki.layout.caKey].map((f) => readFile(f, 'utf8'));
    const [caCert, caKey] = await Promise.all(ca);
    minter = new DeviceMinter(caCert ?? '', caKey ?? '');
  });
  after(async () => pki?.cleanup());

  test('PKCS#12: OpenSSL 3 and legacy files decode; bad passphrase is its own class', async () => {
    const d = await device('p12-dev');
    for (const legacy of [false, true]) {
      const file = join(pki.dir, `d-${legacy}.p12`);
      await writePkcs12(d.certFile, d.keyFile, file, PASS, {
        legacy,
        chainFile: pki.layout.caCert,
      });
      const decoded = decodePkcs12(await readFile(file), PASS);
      assert.equal(decoded.certPem.split('-----BEGIN CERTIFICATE-----').length, 3, 'leaf + CA');
      assert.ok(decoded.certPem.startsWith(d.certPem), 'the key’s certificate comes first');
      assert.match(decoded.keyPem, /^-----BEGIN PRIVATE KEY-----/);
      assert.throws(
        () => decodePkcs12(readFileSync(file), 'wrong'),
        (err: unknown) => err instanceof Pkcs12Error && err.reason === 'bad-passphrase',
      );
    }
    assert.throws(
      () => decodePkcs12(Buffer.from('not a pkcs12 file'), ''),
      (err: unknown) => err instanceof Pkcs12Error && err.reason === 'unparsable',
    );
  });

  test('a foreign CSV: its own column names, `;` and a BOM; ids filled from templates', () => {
    const text =
      '\ufeffDevice Number;certificate;private_key\n' + 'ef14;certs/ef14.crt;certs/ef14.key\n';
    const rows = parseManifest(text, '/srv/fleet/devices.csv', {
      columns: {
        deviceId: 'Device Number',
        clientId: 'client_id',
        username: 'username',
        cert: 'certificate',
        key: 'private_key',
        pkcs12: 'pkcs12',
      },
      columnsGiven: true,
      fill: (id, i) => ({ clientId: `c-${id}`, username: `u-${i}` }),
    });
    assert.deepEqual(rows, [
      {
        deviceId: 'ef14',
        clientId: 'c-ef14',
        username: 'u-1',
        certFile: '/srv/fleet/certs/ef14.crt',
        keyFile: '/srv/fleet/certs/ef14.key',
      },
    ]);
  });

  test('a foreign CSV that does not fit: the file, row and column, and the columns it has', () => {
    const columns = {
      deviceId: 'imei',
      clientId: 'client_id',
      username: 'username',
      cert: 'crt',
      key: 'key',
      pkcs12: 'pkcs12',
    };
    assert.throws(
      () =>
        parseManifest('imei,certificate,key\n1,a,b\n', '/d.csv', { columns, columnsGiven: true }),
      (err: unknown) => {
        assert.ok(err instanceof FleetbenchError);
        assert.match(
          err.problems.join(),
          new RegExp(
            /\/d\.csv line 1 has no column "crt" \(identity\.columns\.cert\); /.source +
              /its columns are "imei", "certificate", "key"/.source,
          ),
        );
        assert.match(err.hint ?? '', /identity\.columns/);
        return true;
      },
    );
    const text = 'imei,crt,key,pkcs12\n1,a.crt,,\n2,,,\n3,,,d3.p12\n';
    assert.throws(
      () => parseManifest(text, '/d.csv', { columns, columnsGiven: true }),
      (err: unknown) => {
        assert.ok(err instanceof FleetbenchError);
        assert.deepEqual(err.problems, [
          '/d.csv row 1 (line 2), column "key": empty',
          '/d.csv row 2 (line 3), column "crt": empty',
          '/d.csv row 2 (line 3), column "key": empty',
        ]);
        return true;
      },
    );
    const p12Rows = parseManifest('device_id,pkcs12\nd1,p/d1.p12\n', '/x/m.csv');
    assert.deepEqual(p12Rows[0], {
      deviceId: 'd1',
      clientId: 'd1',
      username: 'd1',
      certFile: '/x/p/d1.p12',
      keyFile: '/x/p/d1.p12',
      pkcs12: true,
    });
  });

  test('preflight of PKCS#12 devices: classes, counts and examples', async () => {
    const rows: ManifestDevice[] = [];
    for (const [i, pass] of [PASS, PASS, 'other', PASS].entries()) {
      const id = `pf-${i}`;
      const d = await device(id);
      const file = join(pki.dir, `${id}.p12`);
      await writePkcs12(d.certFile, d.keyFile, file, pass);
      rows.push({
        deviceId: id,
        clientId: id,
        username: id,
        certFile: file,
        keyFile: file,
        pkcs12: true,
      });
    }
    const garbage = join(pki.dir, 'garbage.p12');
    await writeFile(garbage, 'garbage');
    rows[3] = { ...(rows[3] as ManifestDevice), certFile: garbage, keyFile: garbage };
    const caPem = await readFile(pki.layout.caCert, 'utf8');
    const scope = { validity: true, chain: true };
    const result = await preflightDevices(
      [{ setting: 'identity.manifest', caPem, devices: rows, scope, passphrase: PASS }],
      { threads: 1 },
    );
    assert.equal(result.devices, 4);
    const byClass = Object.fromEntries(result.problems.map((p) => [p.problem, p]));
    assert.equal(byClass['bad-passphrase']?.count, 1);
    assert.match(
      byClass['bad-passphrase']?.examples[0] ?? '',
      /device pf-2: .*pf-2\.p12 cannot be opened/,
    );
    assert.equal(byClass['unparsable-pkcs12']?.count, 1);
    assert.equal(result.problems.length, 2, 'the two good files pass');
    assert.ok(!JSON.stringify(result).includes(PASS), 'the passphrase is in no message');
  });

  test('a shared PKCS#12 and a platform download load; problems name the setting', async () => {
    const d = await device('shared-dev');
    const p12 = join(pki.dir, 'shared.p12');
    await writePkcs12(d.certFile, d.keyFile, p12, PASS);
    await chmod(p12, 0o644);
    const platform = join(pki.dir, 'download', 'common_certs');
    await mkdir(platform, { recursive: true });
    // The platform's common certificate is self-signed: it need not chain to root_ca.crt.
    const selfSigned = pki.foreign;
    await writeFile(join(platform, 'root_ca.crt'), await readFile(pki.layout.caCert));
    await writeFile(join(platform, 'common.crt'), await readFile(selfSigned.certFile));
    await writeFile(join(platform, 'common.key'), await readFile(selfSigned.keyFile), {
      mode: 0o600,
    });
    process.env.FLEETBENCH_TEST_PASS = PASS;
    const plan = (identity: Record<string, unknown>) =>
      planScenario(
        { name: 's', devices: 1, identity },
        { file: null, sha256: null, label: 't', certsDir: pki.dir },
      );
    const shared = await loadGroupIdentities(
      plan({ ca: pki.layout.caCert, pkcs12: p12, passphraseEnv: 'FLEETBENCH_TEST_PASS' }),
    );
    assert.equal(shared.material[0]?.cert.startsWith(d.certPem), true);
    assert.match(shared.material[0]?.key ?? '', /BEGIN PRIVATE KEY/);
    assert.match(shared.warnings.join(), /identity\.pkcs12: .*shared\.p12 .*mode 0644.*chmod 600/);

    const downloaded = await loadGroupIdentities(plan({ platform: join(pki.dir, 'download') }));
    assert.equal(downloaded.material[0]?.ca, await readFile(pki.layout.caCert, 'utf8'));
    assert.equal(downloaded.warnings.length, 0);

    process.env.FLEETBENCH_TEST_PASS = 'wrong';
    await assert.rejects(
      loadGroupIdentities(plan({ pkcs12: p12, passphraseEnv: 'FLEETBENCH_TEST_PASS' })),
      (err: unknown) => {
        assert.ok(err instanceof FleetbenchError);
        assert.match(
          err.message,
          /identity\.pkcs12: .*shared\.p12 cannot be opened with the given passphrase/,
        );
        assert.ok(!`${err.message}${err.hint}`.includes('wrong'));
        return true;
      },
    );
    delete process.env.FLEETBENCH_TEST_PASS;
    await assert.rejects(
      loadGroupIdentities(plan({ pkcs12: p12, passphraseEnv: 'FLEETBENCH_TEST_PASS' })),
      /identity\.passphraseEnv: the environment variable FLEETBENCH_TEST_PASS is not set/,
    );
  });
});
