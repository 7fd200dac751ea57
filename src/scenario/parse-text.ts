/** Scenario text to plain data: YAML (JSON is a subset), with line and column on error. */

import { parseDocument } from 'yaml';
import { FleetbenchError } from '../errors.js';

/** Parses YAML (or JSON, a subset of it) into plain data, with line and column on error. */
export function parseScenarioText(text: string, label: string): unknown {
  // logLevel 'error': yaml would otherwise print its warnings itself, and the library never prints.
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, logLevel: 'error' });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => {
      const pos = e.linePos?.[0];
      const at = pos ? `line ${pos.line}, column ${pos.col}` : 'unknown position';
      const first = (e.message.split('\n')[0] ?? e.message).replace(
        / at line \d+, column \d+:?$/,
        '',
      );
      return `${at}: ${first}`;
    });
    throw new FleetbenchError('E_SCENARIO_PARSE', `${label} is not valid YAML or JSON`, {
      problems,
      hint: 'fix the syntax at the line and column shown',
    });
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    // yaml refuses alias bombs ("billion laughs") with a plain ReferenceError.
    throw new FleetbenchError('E_SCENARIO_PARSE', `${label} expands YAML aliases too often`, {
      problems: [err instanceof Error ? err.message : String(err)],
      hint: `write the values out; at most ${MAX_ALIAS_COUNT} alias expansions are allowed`,
      cause: err,
    });
  }
  if (hasCycle(data)) {
    throw new FleetbenchError(
      'E_SCENARIO_PARSE',
      `${label} has a YAML alias inside its own anchor`,
      {
        hint: 'an alias (*name) may not refer to a node that contains it: write the value out',
      },
    );
  }
  return data;
}

/** Most alias expansions a scenario may use (yaml's guard against alias bombs). */
const MAX_ALIAS_COUNT = 100;

/** True when an object contains itself (a YAML alias inside its own anchor). */
function hasCycle(value: unknown, ancestors = new Set<object>()): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (ancestors.has(value)) return true;
  ancestors.add(value);
  const children = value instanceof Map ? [...value.values()] : Object.values(value);
  const found = children.some((child) => hasCycle(child, ancestors));
  ancestors.delete(value);
  return found;
}
