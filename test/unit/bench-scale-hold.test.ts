/**
 * The scale probe reads each shard's phase and connected gauge from its metrics endpoint
 * (bench/scale-hold.ts): here from the text fleetbench's own exposition writer produces.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { readGauges } from '../../bench/scale-hold.js';
import { renderExposition, type MetricFamily } from '../../src/metrics/exposition.js';

const families = (stage: string, connected: number): MetricFamily[] => [
  {
    name: 'fleetbench_phase',
    type: 'stateset',
    help: 'The run stage',
    samples: ['starting', 'ramp', 'hold', 'done'].map((s) => ({
      labels: { fleetbench_phase: s },
      value: s === stage ? 1 : 0,
    })),
  },
  {
    name: 'fleetbench_devices_connected',
    type: 'gauge',
    help: 'Devices connected now',
    samples: [{ value: connected }],
  },
];

test('phase and connected devices are read in both exposition formats', () => {
  for (const format of ['prometheus', 'openmetrics'] as const) {
    assert.deepEqual(readGauges(renderExposition(families('hold', 16667), format)), {
      phase: 'hold',
      connected: 16667,
    });
    assert.deepEqual(readGauges(renderExposition(families('ramp', 12), format)), {
      phase: 'ramp',
      connected: 12,
    });
  }
});

test('a text without the families reads as no phase and nothing connected', () => {
  assert.deepEqual(readGauges('# EOF\n'), { phase: null, connected: 0 });
});
