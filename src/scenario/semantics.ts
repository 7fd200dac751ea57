/** Rules across settings that the schema cannot express, checked after it. */

import { identityConflicts, stripUndefined } from './identity-plan.js';
import { problemOf } from './problems.js';
import type { Scenario } from './schema.js';
import { targetProblems } from './target.js';
import { compileIdentity, compileTemplate } from './template.js';
import { checkTlsSettings } from './tls-settings.js';
import { checkBehaviours, checkTopic, TOPIC_PLACEHOLDERS } from './group-behaviour.js';

/** Rules across settings, and the templates, checked after the schema. */
export function checkSemantics(s: Scenario): string[] {
  const problems: string[] = [];
  const attempt = (f: () => unknown) => problems.push(...problemOf(f));
  attempt(() => compileIdentity(s.identity)(s.identity.firstIndex));
  problems.push(...identityConflicts(s.identity, 'identity'));
  s.groups?.forEach((g, i) => {
    problems.push(...identityConflicts(g.identity ?? {}, `groups[${i}].identity`, s.identity));
  });
  problems.push(...checkGroups(s));
  if (s.traffic !== false) {
    const topic = s.traffic.topic;
    attempt(() => checkTopic(topic, 'traffic.topic'));
    problems.push(...checkTrafficModel(s.traffic));
  }
  problems.push(...checkBehaviours(s));
  problems.push(...targetProblems(s));
  const embedded = (s.target === undefined || s.target === 'embedded') && s.targets === undefined;
  if (embedded && s.mqtt.version === 5) {
    problems.push(
      'mqtt.version 5 needs a target: the embedded broker (aedes) speaks MQTT 3.1.1 only (got 5)',
    );
  }
  problems.push(...checkTlsSettings(s.tls));
  return problems;
}

function checkTrafficModel(t: Exclude<Scenario['traffic'], false>): string[] {
  if (t.model === 'closed') {
    return t.ratePerSec === undefined ? [] : ['traffic.ratePerSec needs traffic.model: open'];
  }
  const problems: string[] = [];
  if (t.ratePerSec === undefined) {
    problems.push('traffic.model open needs traffic.ratePerSec (publishes per second)');
  }
  if (t.payloadBytes < 24) {
    problems.push(
      `traffic.payloadBytes must be at least 24 in the open model (got ${t.payloadBytes})`,
    );
  }
  return problems;
}

function publishTopicProblems(s: Scenario, topic: string | undefined, i: number): string[] {
  if (topic === undefined) return [];
  const where = `groups[${i}].publishTopic`;
  if (s.traffic === false) return [`${where} needs traffic (got traffic: false)`];
  if (/[#+]/.test(topic)) return [`${where} must not contain wildcards (got "${topic}")`];
  try {
    compileTemplate(topic, TOPIC_PLACEHOLDERS, where);
  } catch (err) {
    return [err instanceof Error ? err.message : String(err)];
  }
  return [];
}

function checkGroups(s: Scenario): string[] {
  const groups = s.groups;
  if (groups === undefined) return [];
  const problems: string[] = [];
  const names = new Set<string>();
  let fixed = 0;
  let anyShare = false;
  groups.forEach((g, i) => {
    problems.push(...publishTopicProblems(s, g.publishTopic, i));
    if (names.has(g.name)) problems.push(`groups[${i}].name repeats "${g.name}"`);
    names.add(g.name);
    if ((g.devices === undefined) === (g.share === undefined)) {
      problems.push(`groups[${i}] must have exactly one of devices or share`);
    }
    fixed += g.devices ?? 0;
    anyShare ||= g.share !== undefined;
    if (g.identity) {
      const id = { ...s.identity, ...stripUndefined(g.identity) };
      try {
        compileIdentity(id, `groups[${i}].identity`)(id.firstIndex);
      } catch (err) {
        problems.push(err instanceof Error ? err.message : String(err));
      }
    }
  });
  if (fixed > s.devices || (!anyShare && fixed !== s.devices)) {
    problems.push(
      `groups hold ${fixed} devices by count but devices is ${s.devices}: ` +
        'make the counts add up, or give a group a share',
    );
  }
  return problems;
}
