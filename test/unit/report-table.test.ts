import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stripVTControlCharacters } from 'node:util';

import { formatMs } from '../../src/report/format.js';
import { renderSummary, SUMMARY_WIDTH } from '../../src/report/table.js';
import { sampleReport, sampleSnapshot } from './report-fixture.js';

function assertFits(text: string): void {
  for (const line of stripVTControlCharacters(text).split('\n')) {
    assert.ok(line.length <= SUMMARY_WIDTH, `line of ${line.length} columns: ${line}`);
  }
}

describe('renderSummary', () => {
  it('shows the header, connections, messages and every latency number', () => {
    const report = sampleReport();
    const text = renderSummary(report);

    const header =
      'fleetbench quickstart · target mqtts://127.0.0.1:8884 · 200 devices on 2 workers';
    assert.ok(text.startsWith(header), text.split('\n')[0]);
    assert.match(text, /12\.3 s/);
    assert.match(text, /│ attempted +│ +200 │ +100\.0% │/);
    assert.match(text, /│ connected +│ +200 │ +100\.0% │/);
    assert.match(text, /│ published +│ +2,000 │ +162 │/);
    assert.doesNotMatch(text, /PARTIAL/);

    const rt = report.metrics.latency.roundtrip ?? assert.fail('no roundtrip');
    const cells = [rt.meanUs, rt.p50Us, rt.p90Us, rt.p99Us, rt.p999Us, rt.maxUs].map(formatMs);
    const row = text.split('\n').find((line) => line.includes('round trip')) ?? '';
    assert.deepEqual(
      row
        .split('│')
        .slice(2, -1)
        .map((cell) => cell.trim()),
      ['2,000', ...cells],
    );
    assertFits(text);
  });

  it('breaks failures down by category and names refused CONNACK codes', () => {
    const metrics = sampleSnapshot();
    Object.assign(metrics.counters, {
      'connect.attempted': 230,
      'connect.failed.tls': 12,
      'connect.failed.refused.135': 10,
      'connect.failed.refused.5': 3,
      'connect.failed.timeout': 0,
      'connect.failed.refused.77': 1,
      'connection.lost': 4,
    });
    const text = renderSummary(sampleReport({ metrics }));

    assert.match(text, /│ failed +│ +26 │ +11\.3% │/);
    assert.match(text, /│ {3}tls +│ +12 │/);
    assert.match(text, /│ {3}refused 135 not authorized +│ +10 │/);
    assert.match(text, /│ {3}refused 5 not authorized +│ +3 │/);
    assert.match(text, /│ {3}refused 77 +│ +1 │/);
    assert.match(text, /│ unfinished at end +│ +4 │/);
    assert.match(text, /│ lost after connect +│ +4 │/);
    assert.doesNotMatch(text, /timeout/);
  });

  it('fits 100 columns with long names, huge counts, warnings and failures', () => {
    const metrics = sampleSnapshot();
    metrics.counters['messages.published'] = 98_765_432_109;
    metrics.counters['connect.failed.refused.0x9F'] = 1_234_567_890;
    const report = sampleReport({
      scenario: { name: 'n'.repeat(64), file: null, sha256: null },
      options: {
        target: `mqtts://${'broker-'.repeat(20)}.example:8883`,
        devices: 1e7,
        workers: 256,
      },
      partial: { reason: 'interrupted', phase: 'traffic' },
      warnings: ['w'.repeat(150), 'the embedded broker shares this machine '.repeat(5)],
      failures: [
        { category: 'tls', message: 'x '.repeat(200), deviceId: 'device-0000001', count: 5 },
      ],
      metrics,
    });

    for (const color of [false, true]) {
      const text = renderSummary(report, { color });
      assertFits(text);
      assert.match(text, /PARTIAL: stopped \(interrupted\) during traffic/);
      assert.match(text, /refused 0x9F connection rate exceeded/);
      assert.match(text, /98,765,432,109/);
    }
  });

  it('colours only when asked', () => {
    const report = sampleReport({ partial: { reason: 'interrupted', phase: 'ramp' } });
    const plain = renderSummary(report);
    const coloured = renderSummary(report, { color: true });

    assert.equal(plain, stripVTControlCharacters(plain));
    assert.notEqual(coloured, plain);
    assert.equal(stripVTControlCharacters(coloured), plain);
  });

  it('leaves out the latency and message tables when nothing was measured', () => {
    const metrics = { startNs: '0', endNs: '1', counters: {}, gauges: {}, histograms: {} };
    const text = renderSummary(sampleReport({ metrics }));
    assert.doesNotMatch(text, /latency|messages/);
    assert.match(text, /│ attempted +│ +0 │/);
  });
});

describe('formatMs', () => {
  it('keeps about three significant digits', () => {
    assert.deepEqual([0, 123, 1234, 12_345, 123_456, 12_345_678].map(formatMs), [
      '0',
      '0.123',
      '1.23',
      '12.3',
      '123',
      '12346',
    ]);
  });
});
