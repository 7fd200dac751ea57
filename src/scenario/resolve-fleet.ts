/** A scenario's identities and groups resolved into the plan: file paths, counts per group. */

import { groupsOf, resolveBehaviours, type GroupBehaviourPlan } from './group-behaviour.js';
import { resolveIdentity } from './identity-plan.js';
import type { GroupPlan } from './plan.js';
import type { Scenario } from './schema.js';

/** Splits the fleet into groups: fixed counts first, then shares by largest remainder. */
export function resolveGroups(s: Scenario, baseDir: string, certsDir: string): GroupPlan[] {
  const groups = groupsOf(s);
  const fixed = groups.reduce((n, g) => n + (g.devices ?? 0), 0);
  const shares = groups.map((g) => (g.devices === undefined ? (g.share ?? 0) : 0));
  const shareSum = shares.reduce((a, b) => a + b, 0);
  const rest = s.devices - fixed;
  const exact = shares.map((sh) => (shareSum > 0 ? (rest * sh) / shareSum : 0));
  const counts = groups.map((g, i) => g.devices ?? Math.floor(exact[i] ?? 0));
  let missing = s.devices - counts.reduce((a, b) => a + b, 0);
  const byRemainder = exact
    .map((e, i) => ({ i, r: groups[i]?.devices === undefined ? e - Math.floor(e) : -1 }))
    .sort((a, b) => b.r - a.r);
  for (const { i, r } of byRemainder) {
    if (missing <= 0 || r < 0) break;
    counts[i] = (counts[i] ?? 0) + 1;
    missing--;
  }
  let first = 0;
  const behaviours = resolveBehaviours(s);
  return groups.map((g, i) => {
    const devices = counts[i] ?? 0;
    const plan: GroupPlan = {
      ...(behaviours[i] as GroupBehaviourPlan),
      name: g.name,
      firstOrdinal: first,
      devices,
      identity: resolveIdentity(s.identity, g.identity ?? {}, baseDir, certsDir),
      expect: g.expect,
      publishTopic: g.publishTopic ?? null,
    };
    first += devices;
    return plan;
  });
}
