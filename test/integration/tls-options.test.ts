/**
 * The scenario's TLS options against Mosquitto 2's own listener options: TLS 1.3 or 1.2 as
 * asked, the cipher and group asked for, and what was negotiated counted in the report; a
 * broker with no version or cipher in common refuses, and a negative group counts each refusal
 * under `tls` by its alert, while an accepted group stops before any connection with the fix.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { FleetbenchError } from '../../src/errors.js';
import { haveMosquitto, startMosquitto, type RunningMosquitto } from '../helpers/mosquitto.js';
import { makeTestPki, type TestPki } from '../helpers/pki.js';
import { counter, runScenario } from '../helpers/run.js';

const DEVICES = 20;

describe('TLS options against Mosquitto 2 (tls_version, ciphers, ciphers_tls1.3)', async () => {
  const available = await haveMosquitto();
  const skip = available ? false : 'mosquitto is not installed (.ci/run installs it)';
  let pki: TestPki;
  /** TLS 1.2 and 1.3; for TLS 1.2 only ECDHE-ECDSA-AES256-GCM-SHA384. */
  let both: RunningMosquitto;
  /** TLS 1.3 only, with only TLS_AES_256_GCM_SHA384. */
  let only13: RunningMosquitto;
  before(async () => {
    if (!available) return;
    pki = await makeTestPki();
    const files = {
      caFile: pki.layout.caCert,
      certFile: pki.layout.serverCert,
      keyFile: pki.layout.serverKey,
    };
    both = await startMosquitto({
      ...files,
      extraConfig: ['ciphers ECDHE-ECDSA-AES256-GCM-SHA384'],
    });
    only13 = await startMosquitto({
      ...files,
      extraConfig: ['tls_version tlsv1.3', 'ciphers_tls1.3 TLS_AES_256_GCM_SHA384'],
    });
  });
  after(async () => {
    await both?.stop();
    await only13?.stop();
    await pki?.cleanup();
  });

  const scenario = (target: string, tls: Record<string, unknown>, extra = {}) => ({
    name: 'tls-options',
    target,
    devices: DEVICES,
    workers: 2,
    tls,
    traffic: false,
    durationSec: 0.2,
    drainMs: 0,
    ...extra,
  });

  test('TLS 1.3 with the suite and group asked for, counted as negotiated', { skip }, async () => {
    const tls = { ciphersuites: 'TLS_CHACHA20_POLY1305_SHA256', ecdhCurve: 'P-384' };
    const { report } = await runScenario(scenario(both.url, tls), pki.dir);
    assert.equal(counter(report, 'connect.ok'), DEVICES);
    assert.equal(counter(report, 'tls.full'), DEVICES);
    assert.equal(counter(report, 'tls.protocol.TLSv1_3'), DEVICES);
    assert.equal(counter(report, 'tls.cipher.TLS_CHACHA20_POLY1305_SHA256'), DEVICES);
    assert.equal(counter(report, 'tls.group.secp384r1'), DEVICES);
    assert.equal(report.metrics.latency.tlsFull?.count, DEVICES);
  });

  test('TLS 1.2 when capped, with the broker’s one TLS 1.2 cipher', { skip }, async () => {
    const tls = {
      maxVersion: 'TLSv1.2',
      ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384',
      // In TLS 1.2 the groups also bound the curve of the broker's ECDSA certificate (P-256).
      ecdhCurve: 'X25519:P-256',
    };
    const { report } = await runScenario(scenario(both.url, tls), pki.dir);
    assert.equal(counter(report, 'connect.ok'), DEVICES);
    assert.equal(counter(report, 'tls.protocol.TLSv1_2'), DEVICES);
    assert.equal(counter(report, 'tls.protocol.TLSv1_3'), 0);
    assert.equal(counter(report, 'tls.cipher.ECDHE-ECDSA-AES256-GCM-SHA384'), DEVICES);
    assert.equal(counter(report, 'tls.group.X25519'), DEVICES);
  });

  test(
    'a TLS 1.2 cipher the broker does not take: refused, counted under tls',
    { skip },
    async () => {
      const tls = { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' };
      const groups = [{ name: 'weak', devices: DEVICES, expect: 'refuse' }];
      const { report } = await runScenario(scenario(both.url, tls, { groups }), pki.dir);
      assert.equal(counter(report, 'connect.ok'), 0);
      assert.equal(counter(report, 'connect.failed.tls'), DEVICES);
      assert.equal(counter(report, 'groups.weak.connect.refusedBy.handshake-failure'), DEVICES);
      assert.deepEqual(report.securityFindings ?? [], []);
    },
  );

  test('TLS 1.2 against a TLS 1.3-only broker, and a suite it lacks', { skip }, async () => {
    for (const [tls, alert] of [
      [{ maxVersion: 'TLSv1.2' }, 'protocol-version'],
      [{ ciphersuites: 'TLS_AES_128_GCM_SHA256' }, 'handshake-failure'],
    ] as const) {
      const groups = [{ name: 'legacy', devices: DEVICES, expect: 'refuse' }];
      const { report } = await runScenario(scenario(only13.url, tls, { groups }), pki.dir);
      assert.equal(counter(report, 'connect.failed.tls'), DEVICES, JSON.stringify(tls));
      assert.equal(counter(report, `groups.legacy.connect.refusedBy.${alert}`), DEVICES);
    }
  });

  test(
    'an accepted group with no version in common stops before connecting',
    { skip },
    async () => {
      await assert.rejects(
        runScenario(scenario(only13.url, { maxVersion: 'TLSv1.2' }), pki.dir),
        (err: unknown) => {
          assert.ok(err instanceof FleetbenchError);
          assert.equal(err.code, 'E_TARGET');
          assert.match(err.message, /no TLS parameters in common/);
          assert.match(err.hint ?? '', /tls\.maxVersion \(TLSv1\.2-TLSv1\.2\)/);
          return true;
        },
      );
    },
  );
});

describe('RSA keys against Mosquitto 2 (an RSA CA, broker and devices)', async () => {
  const available = await haveMosquitto();
  const skip = available ? false : 'mosquitto is not installed (.ci/run installs it)';
  let pki: TestPki;
  let broker: RunningMosquitto;
  before(async () => {
    if (!available) return;
    pki = await makeTestPki({ algorithm: 'rsa' });
    const { caCert, serverCert, serverKey } = pki.layout;
    broker = await startMosquitto({ caFile: caCert, certFile: serverCert, keyFile: serverKey });
  });
  after(async () => {
    await broker?.stop();
    await pki?.cleanup();
  });

  test('TLS 1.2 with an ECDHE-RSA cipher and RSA-PSS signatures', { skip }, async () => {
    const tls = {
      maxVersion: 'TLSv1.2',
      ciphers: 'ECDHE-RSA-AES128-GCM-SHA256',
      sigalgs: 'rsa_pss_rsae_sha256',
    };
    const run = {
      ...{ name: 'rsa', target: broker.url, devices: DEVICES, workers: 2, tls },
      ...{ traffic: false, durationSec: 0.2, drainMs: 0 },
    };
    const { report } = await runScenario(run, pki.dir);
    assert.equal(counter(report, 'connect.ok'), DEVICES);
    assert.equal(counter(report, 'tls.protocol.TLSv1_2'), DEVICES);
    assert.equal(counter(report, 'tls.cipher.ECDHE-RSA-AES128-GCM-SHA256'), DEVICES);
  });
});
