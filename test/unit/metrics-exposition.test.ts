/**
 * The exposition text in both formats, the naming of counter keys, the HDR-to-bucket
 * conversion and the content negotiation.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { negotiateFormat, loopbackBindAddress } from '../../src/coordinator/metrics-endpoint.js';
import { renderExposition, type MetricFamily } from '../../src/metrics/exposition.js';
import { createRecordingHistogram, encodeHistogram } from '../../src/metrics/histogram.js';
import {
  addToBuckets,
  counterName,
  emptyBuckets,
  LATENCY_BOUNDS_US,
} from '../../src/metrics/metric-families.js';

const FAMILIES: MetricFamily[] = [
  {
    name: 'fb_run',
    type: 'info',
    help: 'The run',
    samples: [{ labels: { s: 'a"b\\c\nd' }, value: 1 }],
  },
  {
    name: 'fb_phase',
    type: 'stateset',
    help: 'Phase',
    samples: [
      { labels: { fb_phase: 'up' }, value: 0 },
      { labels: { fb_phase: 'hold' }, value: 1 },
    ],
  },
  { name: 'fb_connects', type: 'counter', help: 'Connects', samples: [{ value: 7 }] },
  {
    name: 'fb_rt_seconds',
    type: 'histogram',
    unit: 'seconds',
    help: 'Round "trip"',
    histograms: [{ bounds: [0.001, 1], counts: [2, 3], count: 4, sum: 70.5 }],
  },
];

test('OpenMetrics: family names without _total, UNIT, state sets, info, # EOF', () => {
  assert.equal(
    renderExposition(FAMILIES, 'openmetrics'),
    [
      '# TYPE fb_run info',
      '# HELP fb_run The run',
      'fb_run_info{s="a\\"b\\\\c\\nd"} 1',
      '# TYPE fb_phase stateset',
      '# HELP fb_phase Phase',
      'fb_phase{fb_phase="up"} 0',
      'fb_phase{fb_phase="hold"} 1',
      '# TYPE fb_connects counter',
      '# HELP fb_connects Connects',
      'fb_connects_total 7',
      '# TYPE fb_rt_seconds histogram',
      '# UNIT fb_rt_seconds seconds',
      '# HELP fb_rt_seconds Round \\"trip\\"',
      'fb_rt_seconds_bucket{le="0.001"} 2',
      'fb_rt_seconds_bucket{le="1.0"} 3',
      'fb_rt_seconds_bucket{le="+Inf"} 4',
      'fb_rt_seconds_count 4',
      'fb_rt_seconds_sum 70.5',
      '# EOF',
      '',
    ].join('\n'),
  );
});

test('Prometheus text: counters typed by their _total name, no UNIT, gauges for the rest', () => {
  const text = renderExposition(FAMILIES, 'prometheus');
  assert.ok(text.includes('# TYPE fb_run_info gauge\n# HELP fb_run_info The run\n'));
  assert.ok(text.includes('# TYPE fb_phase gauge\n'));
  assert.ok(text.includes('# TYPE fb_connects_total counter\n# HELP fb_connects_total Connects\n'));
  assert.ok(text.includes('# HELP fb_rt_seconds Round "trip"\n'));
  assert.ok(!text.includes('# UNIT') && !text.includes('# EOF'));
});

test('counter keys become families with labels', () => {
  assert.deepEqual(counterName('connect.ok'), {
    family: 'fleetbench_connects',
    help: 'Devices connected (CONNACK accepted)',
    labels: {},
  });
  assert.deepEqual(counterName('connect.failed.refused.135').labels, {
    category: 'refused',
    code: '135',
  });
  assert.deepEqual(counterName('connect.failed.tls'), {
    family: 'fleetbench_connect_failures',
    help: 'Failed connects by category',
    labels: { category: 'tls' },
  });
  const group = counterName('groups.cold-start.connect.failed.timeout');
  assert.equal(group.family, 'fleetbench_group_connect_failures');
  assert.deepEqual(group.labels, { group: 'cold-start', category: 'timeout' });
  assert.deepEqual(counterName('targets.2.connect.ok').labels, { target: '2' });
  assert.deepEqual(counterName('messages.qos1.outOfOrder'), {
    family: 'fleetbench_messages_by_qos_out_of_order',
    help: 'Messages out_of_order, by QoS',
    labels: { qos: '1' },
  });
  assert.deepEqual(counterName('messages.refused.135').labels, { code: '135' });
  assert.equal(counterName('metrics.outOfRange').family, 'fleetbench_metrics_out_of_range');
});

test('HDR values fall into the buckets at or above them; +Inf takes the rest', () => {
  const h = createRecordingHistogram();
  try {
    for (const us of [50, 100, 101, 1_000, 59_000_000, 70_000_000]) h.recordValue(us);
    const b = emptyBuckets();
    addToBuckets(b, encodeHistogram(h));
    addToBuckets(b, encodeHistogram(h)); // a second interval adds up
    const at = (us: number) => b.counts[LATENCY_BOUNDS_US.indexOf(us)];
    assert.equal(at(100), 4, '50 and 100 µs, twice');
    assert.equal(at(250), 6);
    assert.equal(at(1_000), 8);
    assert.equal(at(30_000_000), 8);
    assert.equal(at(60_000_000), 10);
    assert.equal(b.count, 12, 'the 70 s values only in +Inf');
    const sumS = b.sumUs / 1e6;
    assert.ok(Math.abs(sumS - 2 * 129.001251) < 2 * 129 * 0.001, `sum ${sumS}`);
  } finally {
    h.destroy();
  }
});

test('content negotiation follows Prometheus 2 and 3, curl and plain text', () => {
  const prom2 =
    'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;' +
    'q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
  const prom3 =
    'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,' +
    'application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;' +
    'escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1';
  assert.equal(negotiateFormat(prom2), 'openmetrics');
  assert.equal(negotiateFormat(prom3), 'openmetrics');
  assert.equal(negotiateFormat('application/openmetrics-text'), 'openmetrics');
  assert.equal(negotiateFormat(undefined), 'prometheus');
  assert.equal(negotiateFormat('*/*'), 'prometheus');
  assert.equal(negotiateFormat('text/plain'), 'prometheus');
  assert.equal(negotiateFormat('application/json'), 'prometheus');
});

test('loopback addresses only', () => {
  assert.equal(loopbackBindAddress('127.0.0.1'), '127.0.0.1');
  assert.equal(loopbackBindAddress('127.9.8.7'), '127.9.8.7');
  assert.equal(loopbackBindAddress('::1'), '::1');
  assert.equal(loopbackBindAddress('localhost'), '127.0.0.1');
  for (const bad of ['0.0.0.0', '::', '128.0.0.1', '::ffff:10.0.0.1', 'metrics.example']) {
    assert.throws(() => loopbackBindAddress(bad), /must be a loopback address/, bad);
  }
});
