/** Validation problems as users read them: each with its path in the file and the value given. */

import type { z } from 'zod';
import { FleetbenchError } from '../errors.js';

/** The error for a scenario with problems: every one listed, each naming the file. */
export function invalidScenario(label: string, problems: string[]): FleetbenchError {
  const n = problems.length;
  return new FleetbenchError('E_SCENARIO', `${label}: ${n} problem${n === 1 ? '' : 's'}`, {
    problems: problems.map((p) => `${p} in ${label}`),
    hint: 'see the scenario reference in README.md (section "Scenario format")',
  });
}

/** Runs a check that throws its problem: the problem's message, or nothing. */
export function problemOf(check: () => unknown): string[] {
  try {
    check();
    return [];
  } catch (err) {
    return [err instanceof Error ? err.message : String(err)];
  }
}

/** One schema issue as message lines (a union names the branch the user meant). */
export function describeIssue(issue: z.core.$ZodIssue, input: unknown): string[] {
  if (issue.code === 'invalid_union') {
    // Name the problems of the branch the user meant: the one that got past the type check.
    const meant = issue.errors.find((branch) => branch.every((i) => i.path.length > 0));
    if (meant !== undefined) {
      return meant.flatMap((i) => describeIssue({ ...i, path: [...issue.path, ...i.path] }, input));
    }
  }
  const where = issue.path.length === 0 ? 'scenario' : formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => `${joinPath(where, k)} is not a known setting`);
  }
  const got = valueAt(input, issue.path);
  const shown = got === undefined ? 'nothing' : showValue(got);
  return [`${where}: ${issue.message.toLowerCase()} (got ${shown})`];
}

/** A value as a message shows it: JSON, cut to 80 characters. */
function showValue(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function formatPath(p: readonly PropertyKey[]): string {
  return p.reduce<string>((acc, k) => joinPath(acc, k), '');
}

function joinPath(base: string, key: PropertyKey): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return base === '' || base === 'scenario' ? String(key) : `${base}.${String(key)}`;
}

function valueAt(input: unknown, p: readonly PropertyKey[]): unknown {
  let cur: unknown = input;
  for (const k of p) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}
