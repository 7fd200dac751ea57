import assert from 'node:assert/strict';
import tls from 'node:tls';
import { describe, test } from 'node:test';

import {
  ConnectFailure,
  describeSocketError,
  refusalReason,
} from '../../src/client/device-connection.js';
import { counterPart } from '../../src/client/tls-handshake.js';
import { FleetbenchError } from '../../src/errors.js';
import { resolveMetric } from '../../src/report/metric-path.js';
import { tlsSummary, tlsSummaryLines } from '../../src/report/tls-summary.js';
import { planScenario } from '../../src/scenario/load.js';
import { TlsSchema } from '../../src/scenario/schema.js';
import { checkTlsSettings, tlsContextOptions } from '../../src/scenario/tls-settings.js';

const settings = (t: Record<string, unknown>) => TlsSchema.parse(t);

function problemsOf(tlsKeys: Record<string, unknown>): string[] {
  try {
    planScenario(
      { name: 't', devices: 1, tls: tlsKeys },
      { file: null, sha256: null, label: 'x.yaml' },
    );
  } catch (err) {
    assert.ok(err instanceof FleetbenchError);
    assert.equal(err.code, 'E_SCENARIO');
    assert.match(err.message, /x\.yaml/, 'the error names the file');
    return err.problems;
  }
  return assert.fail('expected a validation error');
}

describe('tls settings', () => {
  test('defaults: TLS 1.2-1.3, resumption on, Node’s lists untouched', () => {
    const t = settings({});
    assert.equal(t.sessionResumption, true);
    assert.deepEqual(tlsContextOptions(t), { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' });
    assert.deepEqual(checkTlsSettings(t), []);
  });

  test('ciphers replaces only the TLS 1.2 list, ciphersuites only the TLS 1.3 one', () => {
    const only12 = tlsContextOptions(settings({ ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }));
    const list12 = (only12.ciphers ?? '').split(':');
    assert.ok(list12.includes('ECDHE-ECDSA-AES128-GCM-SHA256'));
    // Without TLS 1.3 suites in the string Node would quietly cap the connection at TLS 1.2.
    assert.ok(list12.includes('TLS_AES_256_GCM_SHA384'));
    assert.ok(!list12.includes('ECDHE-RSA-AES128-GCM-SHA256'));

    const only13 = tlsContextOptions(settings({ ciphersuites: 'TLS_CHACHA20_POLY1305_SHA256' }));
    const list13 = (only13.ciphers ?? '').split(':');
    assert.deepEqual(
      list13.filter((c) => c.startsWith('TLS_')),
      ['TLS_CHACHA20_POLY1305_SHA256'],
    );
    assert.ok(list13.includes('ECDHE-ECDSA-AES128-GCM-SHA256'));
    // The options build a context.
    tls.createSecureContext(only12);
    tls.createSecureContext(only13);
  });

  test('groups and signature algorithms pass through', () => {
    const o = tlsContextOptions(
      settings({
        ecdhCurve: 'X25519:P-256',
        sigalgs: 'ecdsa_secp256r1_sha256',
        maxVersion: 'TLSv1.2',
      }),
    );
    assert.equal(o.ecdhCurve, 'X25519:P-256');
    assert.equal(o.sigalgs, 'ecdsa_secp256r1_sha256');
    assert.equal(o.maxVersion, 'TLSv1.2');
  });

  test('every bad value is named with its setting, before any connection', () => {
    const problems = problemsOf({
      ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-NOPE-SHA256:!aNULL',
      ciphersuites: 'TLS_AES_128_GCM_SHA256:TLS_FAKE_SHA256',
      ecdhCurve: 'X25519:P-999',
      sigalgs: 'ecdsa_secp256r1_sha256:nope_sha1',
    });
    assert.equal(problems.length, 4, problems.join('\n'));
    assert.match(problems[0] ?? '', /^tls\.ciphers .*ECDHE-NOPE-SHA256/);
    assert.match(problems[0] ?? '', /does not know: ECDHE-NOPE-SHA256 \(/);
    assert.match(problems[1] ?? '', /^tls\.ciphersuites .*TLS_FAKE_SHA256 .*known: .*TLS_AES/);
    assert.match(problems[2] ?? '', /^tls\.ecdhCurve .*P-999/);
    assert.match(problems[3] ?? '', /^tls\.sigalgs .*nope_sha1/);
  });

  test('TLS 1.3 suites under ciphers, versions Node lacks, and an empty range are refused', () => {
    assert.match(
      problemsOf({ ciphers: 'TLS_AES_128_GCM_SHA256' }).join('\n'),
      /tls\.ciphers is the TLS 1\.2 cipher list; TLS 1\.3 suites go under tls\.ciphersuites/,
    );
    for (const v of ['TLSv1.1', 'TLSv1.4', 'SSLv3']) {
      assert.match(
        problemsOf({ maxVersion: v }).join('\n'),
        /tls\.maxVersion: must be TLSv1\.2 or TLSv1\.3/i,
      );
    }
    assert.match(
      problemsOf({ minVersion: 'TLSv1.3', maxVersion: 'TLSv1.2' }).join('\n'),
      /minVersion is above tls\.maxVersion/,
    );
    assert.match(problemsOf({ ciphersuites: 'AES128' }).join('\n'), /ciphersuites .*AES128/);
  });
});

describe('handshake counters and failures', () => {
  test('a protocol name becomes one counter segment', () => {
    assert.equal(counterPart('TLSv1.3'), 'TLSv1_3');
    assert.equal(counterPart('ECDHE-ECDSA-AES128-GCM-SHA256'), 'ECDHE-ECDSA-AES128-GCM-SHA256');
  });

  test('an OpenSSL error inside a write error keeps its reason and its alert', () => {
    const err = Object.assign(
      new Error(
        'write EPROTO C0B67BB4C47F0000:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert ' +
          'handshake failure:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:' +
          'SSL alert number 40\n',
      ),
      { code: 'EPROTO' },
    );
    const line = describeSocketError(err);
    assert.equal(line, 'sslv3 alert handshake failure (EPROTO)');
    assert.equal(refusalReason(new ConnectFailure('tls', line)), 'handshake-failure');
    const coded = 'tlsv1 alert protocol version (ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION)';
    assert.equal(refusalReason(new ConnectFailure('tls', coded)), 'protocol-version');
  });

  test('full and resumed handshakes resolve as metric paths and show in the summary', () => {
    const counters = {
      'tls.full': 100,
      'tls.resumed': 300,
      'tls.protocol.TLSv1_3': 400,
      'tls.cipher.TLS_AES_256_GCM_SHA384': 400,
      'tls.group.X25519': 400,
    };
    const source = {
      metrics: { startNs: '0', endNs: '1', counters, gauges: {}, histograms: {} },
      durationMs: 1000,
    };
    assert.equal(resolveMetric(source, 'tls.resumed').value, 300);
    const rate = resolveMetric(source, 'tls.resumed.rate');
    assert.equal(rate.value, 0.75);
    assert.equal(rate.direction, 'higher-is-better');
    assert.equal(
      resolveMetric({ ...source, metrics: { ...source.metrics, counters: {} } }, 'tls.full').value,
      0,
    );
    assert.equal(resolveMetric(source, 'tlsResumed.p50').value, null, 'a histogram path');
    const summary = tlsSummary(counters);
    assert.ok(summary !== null);
    assert.deepEqual(tlsSummaryLines(summary, String), [
      'TLS handshakes: 100 full, 300 resumed (75.0%)',
      'negotiated: TLSv1.3 ×400 · TLS_AES_256_GCM_SHA384 ×400 · X25519 ×400',
    ]);
    assert.equal(tlsSummary({ 'connect.ok': 3 }), null);
  });
});
