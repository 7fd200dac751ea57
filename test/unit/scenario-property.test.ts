/**
 * Property: no input makes the scenario loader fail with anything but a validation error
 * (FleetbenchError E_SCENARIO or E_SCENARIO_PARSE), whether it is arbitrary data or arbitrary
 * YAML text. Bounded runs, a few seconds in all; a failure prints the shrunk counterexample.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { FleetbenchError } from '../../src/errors.js';
import { planScenario } from '../../src/scenario/load.js';
import { parseScenarioText } from '../../src/scenario/parse-text.js';

const SOURCE = { file: null, sha256: null, label: 'property.yaml', certsDir: '/nonexistent' };

/** Loads like `loadScenario`, minus the file: parse (when text), then validate and plan. */
function load(input: unknown, asText: boolean): void {
  const raw = asText ? parseScenarioText(input as string, SOURCE.label) : input;
  planScenario(raw, SOURCE);
}

/** True when `load` accepted the input or refused it with a validation error. */
function onlyValidationErrors(input: unknown, asText: boolean): boolean {
  try {
    load(input, asText);
    return true;
  } catch (err) {
    if (!(err instanceof FleetbenchError)) throw err;
    if (err.code !== 'E_SCENARIO' && err.code !== 'E_SCENARIO_PARSE') throw err;
    // A validation error always says what is wrong.
    return err.problems.length > 0 || err.hint !== undefined;
  }
}

const KEYS = [
  'name',
  'description',
  'target',
  'devices',
  'workers',
  'identity',
  'groups',
  'tls',
  'mqtt',
  'connect',
  'traffic',
  'durationSec',
  'drainMs',
  'reconnect',
  'phases',
  'thresholds',
  'ca',
  'cert',
  'key',
  'deviceId',
  'clientId',
  'share',
  'expect',
  'ratePerSec',
  'type',
  'qos',
  'intervalMs',
  'payloadBytes',
  'version',
  'insecure',
  'servername',
  'ciphers',
  'ecdhCurve',
  'sessionResumption',
  'topic',
  'maxInFlight',
];

/** Values near the edges the schema cares about. */
const edgeValue = fc.oneof(
  fc.constantFrom(0, -1, 1, 0.5, -0.0, 1e308, Number.NaN, Infinity, 2 ** 53, '', '5', 'x'),
  fc.constantFrom(true, false, null, 'mqtts://127.0.0.1:1', 'embedded', '{i:05}', '{nope}'),
  fc.constantFrom('ramp', 'steady', 'storm', 'hold', 'ramp-down', '3.1.1', 5, 'refuse'),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 12 }),
);

/** Scenario-shaped objects: the real keys, nested, with edge values and random junk. */
const scenarioLike: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    edgeValue,
    fc.dictionary(fc.constantFrom(...KEYS), tie('node'), { maxKeys: 6 }),
    fc.array(tie('node'), { maxLength: 3 }),
  ),
})).node;

/** YAML text built from the same keys, with anchors, aliases, tags and flow collections. */
const yamlText = fc
  .array(
    fc.tuple(
      fc.constantFrom('', '  ', '    ', '- ', '  - '),
      fc.constantFrom(...KEYS, '<<', '? ', '&a ', '*a', '!!str ', '{', '[', '---'),
      fc.constantFrom(': ', ':', ' ', ': &a ', ': *a', ': !!binary ', ': [', ': {'),
      fc.oneof(
        fc.string({ maxLength: 10 }),
        edgeValue.map((v) => String(v)),
      ),
    ),
    { maxLength: 12 },
  )
  .map((lines) => lines.map((parts) => parts.join('')).join('\n'));

describe('scenario loader property: only validation errors', () => {
  test('arbitrary data', () => {
    fc.assert(
      fc.property(fc.anything({ maxDepth: 3 }), (v) => onlyValidationErrors(v, false)),
      { numRuns: 2000 },
    );
  });

  test('scenario-shaped data', () => {
    fc.assert(
      fc.property(scenarioLike, (v) => onlyValidationErrors(v, false)),
      { numRuns: 3000 },
    );
  });

  test('arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (t) =>
        onlyValidationErrors(t, true),
      ),
      { numRuns: 2000 },
    );
  });

  test('YAML-shaped text', () => {
    fc.assert(
      fc.property(yamlText, (t) => onlyValidationErrors(t, true)),
      { numRuns: 4000 },
    );
  });

  test('the inputs that once escaped as other errors', () => {
    const found = [
      'name: n\ndevices: &d [*d]\n', // an alias inside its own anchor: a cycle
      `a: &a [x, x, x, x, x, x, x, x, x, x]\n${'bcdef'
        .split('')
        .map((k, i) => `${k}: &${k} [${Array(10).fill(`*${'abcde'[i]}`).join(', ')}]`)
        .join('\n')}\nname: n\ndevices: 1\n`, // an alias bomb
    ];
    for (const text of found) {
      assert.ok(onlyValidationErrors(text, true));
      assert.throws(() => load(text, true), { code: 'E_SCENARIO_PARSE' });
    }
  });
});
