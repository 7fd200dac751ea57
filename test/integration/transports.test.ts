/**
 * Transports: the same fleet over MQTT over TLS, over secure WebSockets (mutual TLS under the
 * WebSocket) and over plain TCP against one Mosquitto 2 with three listeners, every round trip
 * exact on each; a tcp run compared with a tls run (what TLS costs); a port of another
 * transport refused before any device connects; and the embedded broker serving wss and tcp.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { compareReports } from '../../src/report/compare.js';
import type { ReportDocument } from '../../src/report/document.js';
import { planScenario } from '../../src/scenario/load.js';
import { mosquittoSuite } from '../helpers/mosquitto-suite.js';
import { scenarioProblems } from '../helpers/scenario-problems.js';
import { makeTestPki, type TestPki } from '../helpers/pki.js';
import { counter, histogramCount, runScenario } from '../helpers/run.js';

const DEVICES = 60;

function scenario(target: string | undefined, extra: Record<string, unknown> = {}) {
  return {
    name: 'transports',
    ...(target === undefined ? {} : { target }),
    devices: DEVICES,
    workers: 2,
    connect: { ratePerSec: 300 },
    traffic: { qos: 1, intervalMs: 250, payloadBytes: 32 },
    durationSec: 1,
    drainMs: 1000,
    ...extra,
  };
}

function assertExact(report: ReportDocument, label: string): void {
  assert.equal(counter(report, 'connect.ok'), DEVICES, `${label}: connect.ok`);
  assert.ok(counter(report, 'messages.published') >= DEVICES * 2, `${label}: published`);
  assert.equal(
    counter(report, 'messages.received'),
    counter(report, 'messages.published'),
    `${label}: received = published`,
  );
  for (const kind of ['lost', 'duplicated', 'outOfOrder', 'unmatched']) {
    assert.equal(counter(report, `messages.${kind}`), 0, `${label}: ${kind}`);
  }
  assert.equal(report.accounting?.errors.length ?? 0, 0, `${label}: accounting errors`);
}

describe('transports against Mosquitto 2: tls, wss and tcp listeners', async () => {
  const suite = await mosquittoSuite([], { alsoListen: ['wss', 'tcp'] });
  const skip = suite.skip;
  const reports = new Map<string, ReportDocument>();
  const b = () => suite.broker;
  const dir = () => suite.pki.dir;

  test('the same fleet over tls, wss and tcp: exact accounting on each', { skip }, async () => {
    const urls = { tls: b().url, wss: b().urls.wss ?? '', tcp: b().urls.tcp ?? '' };
    for (const [transport, url] of Object.entries(urls)) {
      const { report } = await runScenario(scenario(url), dir());
      assertExact(report, transport);
      assert.equal(report.options['transport'], transport);
      assert.equal(report.options.target, url);
      reports.set(transport, report);
    }
    const tls = reports.get('tls'),
      wss = reports.get('wss'),
      tcp = reports.get('tcp');
    if (!tls || !wss || !tcp) return assert.fail('a run is missing');
    // The breakdown has each step of its transport and no other.
    assert.equal(histogramCount(tls, 'tls'), DEVICES);
    assert.equal(histogramCount(tls, 'websocket'), 0);
    assert.equal(histogramCount(wss, 'tls'), DEVICES);
    assert.equal(histogramCount(wss, 'websocket'), DEVICES);
    assert.equal(histogramCount(tcp, 'tls'), 0);
    for (const r of [tls, wss, tcp]) assert.equal(histogramCount(r, 'connack'), DEVICES);
    assert.ok(
      tcp.warnings.some((w) => /nothing is encrypted/.test(w)),
      tcp.warnings.join('\n'),
    );
    assert.ok(!tls.warnings.some((w) => /nothing is encrypted/.test(w)));
    assert.deepEqual(wss.options['websocket'], { subprotocol: 'mqtt', path: '/mqtt' });
  });

  test('a tcp run compared with a tls run shows what TLS costs', { skip }, () => {
    const tls = reports.get('tls'),
      tcp = reports.get('tcp');
    if (!tls || !tcp) return assert.fail('the runs of the first test are missing');
    const c = compareReports([tcp], tls);
    assert.ok(c.warnings.some((w) => /transports differ \(base: tcp, candidate: tls\)/.test(w)));
    assert.ok(!c.warnings.some((w) => /^targets differ/.test(w)), c.warnings.join('\n'));
    const row = (path: string) => c.rows.find((r) => r.path === path);
    assert.equal(row('tls.p99')?.verdict, 'n/a', 'only the tls run has a TLS handshake');
    assert.ok(row('connect.p99')?.candidate !== null);
  });

  test('client certificates are required over wss too', { skip }, async () => {
    const foreign = suite.pki.foreign;
    const { report } = await runScenario(
      scenario(b().urls.wss, {
        devices: 10,
        traffic: false,
        drainMs: 0,
        groups: [
          {
            name: 'foreign',
            devices: 10,
            expect: 'refuse',
            identity: { cert: foreign.certFile, key: foreign.keyFile },
          },
        ],
      }),
      dir(),
    );
    assert.equal(counter(report, 'connect.ok'), 0);
    assert.equal(counter(report, 'connect.failed.tls'), 10);
  });

  test('a port of another transport is refused before any device connects', { skip }, async () => {
    const port = (url: string | undefined) => new URL(url ?? '').port;
    const cases: [string, RegExp][] = [
      [`mqtts://127.0.0.1:${port(b().urls.wss)}`, /is a WebSocket listener.*wss:\/\//s],
      [`mqtt://127.0.0.1:${b().port}`, /speaks TLS, but the target is mqtt:\/\//],
      [`wss://127.0.0.1:${b().port}/mqtt`, /WebSocket upgrade at wss:.* failed/],
      [`mqtts://127.0.0.1:${port(b().urls.tcp)}`, /does not speak TLS/],
    ];
    for (const [target, message] of cases) {
      await assert.rejects(runScenario(scenario(target), dir()), (err: Error) => {
        assert.match(`${err.message} ${(err as { hint?: string }).hint ?? ''}`, message, target);
        assert.equal((err as { code?: string }).code, 'E_TARGET', target);
        return true;
      });
    }
  });
});

describe('transport settings', () => {
  const plan = (s: Record<string, unknown>) =>
    planScenario(s, { file: null, sha256: null, label: 'test.yaml' });
  const problems = scenarioProblems;

  test('a scheme that disagrees with transport is an error naming both', () => {
    const base = { name: 'x', devices: 1 };
    assert.match(
      problems({ ...base, target: 'mqtts://127.0.0.1:8883', transport: 'wss' }),
      /is tls \(mqtts:\/\/\) but transport is wss: give the target as wss:\/\/host:port\/mqtt/,
    );
    assert.match(
      problems({ ...base, targets: ['mqtts://127.0.0.1:1', 'wss://127.0.0.1:2/mqtt'] }),
      /targets must all use the same scheme \(got mqtts, wss\)/,
    );
    assert.match(
      problems({ ...base, target: 'mqtt://127.0.0.1:1883/mqtt' }),
      /only wss:\/\/ and ws:\/\/ targets take/,
    );
    assert.match(
      problems({ ...base, target: 'mqtts://127.0.0.1:1', websocket: { path: '/mqtt' } }),
      /websocket.path applies to wss:\/\/ and ws:\/\/ targets/,
    );
    assert.match(
      problems({ ...base, target: 'http://127.0.0.1:80' }),
      /target must use mqtts:\/\/ \(TLS\), wss:\/\//,
    );
  });

  test('a wss URL gives the path, or websocket.path does, else /mqtt', () => {
    const t = (s: Record<string, unknown>) => plan({ name: 'x', devices: 1, ...s }).target;
    assert.deepEqual(t({ target: 'wss://[::1]:8084/ws' }), {
      kind: 'url',
      protocol: 'wss',
      host: '::1',
      port: 8084,
      path: '/ws',
    });
    assert.equal(t({ target: 'wss://broker.example:8084' }).path, '/mqtt');
    assert.equal(t({ target: 'wss://broker.example' }).port, 443);
    assert.equal(t({ transport: 'wss', websocket: { path: '/mq' } }).path, '/mq');
    assert.equal(t({ transport: 'tcp' }).protocol, 'mqtt');
  });
});

describe('the embedded broker over other transports', () => {
  let pki: TestPki | undefined;
  before(async () => (pki = await makeTestPki()));
  after(async () => pki?.cleanup());

  for (const transport of ['wss', 'tcp'] as const) {
    test(`serves ${transport}: exact accounting`, async () => {
      const { report } = await runScenario(
        scenario(undefined, { transport, devices: 40, durationSec: 0.5 }),
        pki?.dir ?? assert.fail('no PKI'),
      );
      assert.equal(counter(report, 'connect.ok'), 40);
      assert.equal(counter(report, 'messages.received'), counter(report, 'messages.published'));
      assert.equal(counter(report, 'messages.lost'), 0);
      assert.equal(report.options['transport'], transport);
      assert.match(report.options.target, transport === 'wss' ? /^wss:.*\/mqtt$/ : /^mqtt:/);
      assert.equal(histogramCount(report, 'websocket'), transport === 'wss' ? 40 : 0);
    });
  }
});
