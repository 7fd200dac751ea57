/** The scale probe's flags: defaults, and every bad flag reported at once. */

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { parseScaleOptions } from '../../bench/scale-options.js';
import { FleetbenchError } from '../../src/errors.js';

test('defaults: 100,000 devices, 19,000 per process, with the single-process baseline', () => {
  const o = parseScaleOptions([]);
  assert.equal(o.devices, 100_000);
  assert.equal(o.perProcess, 19_000);
  assert.equal(o.inFlight, 48);
  assert.equal(o.minFreeGib, 4);
  assert.equal(o.baseline, true);
  assert.equal(parseScaleOptions(['--no-baseline', '--devices', '250000']).devices, 250_000);
});

test('bad flags are all reported, each with its range', () => {
  assert.throws(
    () =>
      parseScaleOptions(['--devices', '300000', '--per-process', '20000', '--in-flight', '100']),
    (err: unknown) =>
      err instanceof FleetbenchError &&
      err.code === 'E_USAGE' &&
      err.problems.length === 3 &&
      err.problems.some((p) => p.includes('--per-process must be an integer from 100 to 19900')) &&
      err.problems.some((p) => p.includes('--in-flight must be an integer from 1 to 99')),
  );
  assert.throws(() => parseScaleOptions(['--devices', 'many']), /bad scale option/);
  assert.throws(() => parseScaleOptions(['--unknown']), FleetbenchError);
});
