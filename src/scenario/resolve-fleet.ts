/** A scenario's identities and groups resolved into the plan: file paths, counts per group. */

import path from 'node:path';
import { groupsOf, resolveBehaviours, type GroupBehaviourPlan } from './group-behaviour.js';
import type { GroupPlan, IdentityPlan } from './plan.js';
import type { Scenario } from './schema.js';

export type IdentityInput = Scenario['identity'];

/** One identity (the scenario's, or a group's over it) with its files resolved. */
export function resolveIdentity(
  base: IdentityInput,
  override: Partial<IdentityInput>,
  baseDir: string,
  certsDir: string,
): IdentityPlan {
  const own = stripUndefined(override);
  const id = { ...base, ...own };
  // A group's own certificate replaces an inherited manifest, and its own manifest an
  // inherited certificate.
  if (own.manifest === undefined && (own.cert !== undefined || own.key !== undefined)) {
    id.manifest = undefined;
  }
  if (own.manifest !== undefined && own.cert === undefined && own.key === undefined) {
    id.cert = undefined;
    id.key = undefined;
  }
  const file = (f: string | undefined, fallback: string) =>
    f === undefined ? path.join(certsDir, fallback) : path.resolve(baseDir, f);
  return {
    caFile: file(id.ca, 'root_ca.crt'),
    certFile: file(id.cert, 'common.crt'),
    keyFile: file(id.key, 'common.key'),
    defaultFiles: id.ca === undefined && id.cert === undefined && id.key === undefined,
    manifestFile: id.manifest === undefined ? null : path.resolve(baseDir, id.manifest),
    contexts: id.contexts,
    deviceId: id.deviceId,
    clientId: id.clientId,
    username: id.username,
    firstIndex: id.firstIndex,
  };
}

/** The object without its undefined values, so a spread leaves the base's values in place. */
export function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

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
