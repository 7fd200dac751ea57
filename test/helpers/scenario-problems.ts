/** A scenario's validation problems as the CLI lists them, for tests of what is refused. */

import assert from 'node:assert/strict';
import { planScenario } from '../../src/scenario/load.js';

/**
 * Plans the scenario (built in code) and returns its problems, one per line.
 * @throws AssertionError when the scenario is accepted
 */
export function scenarioProblems(scenario: Record<string, unknown>): string {
  try {
    planScenario(scenario, { file: null, sha256: null, label: 'test.yaml' });
  } catch (err) {
    return ((err as { problems?: string[] }).problems ?? []).join('\n');
  }
  return assert.fail('the scenario was accepted');
}
