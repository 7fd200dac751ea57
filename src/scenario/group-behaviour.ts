/**
 * What each group does, resolved from its keys and the top-level defaults: its behaviour
 * (telemetry, command receivers, controller, monitor), topics, QoS, payload and MQTT session
 * (clean session, session expiry, keepalive, will, user properties). Every problem is
 * reported with its path; the templates are compiled here once to check them.
 */

import { DEFAULT_COMMAND_TOPIC, DEFAULT_RESPONSE_TOPIC, type Behaviour } from './group-schema.js';
import { problemOf } from './problems.js';
import type { Scenario } from './schema.js';
import { compileTemplate, filterProblem, wildcardFilter, type Template } from './template.js';

/** Placeholders of the device a template is rendered for. */
export const DEVICE_PLACEHOLDERS = ['i', 'deviceId', 'clientId', 'username', 'group'] as const;
/** Placeholders of a telemetry topic: the device's and the publish's sequence number. */
export const TOPIC_PLACEHOLDERS = [...DEVICE_PLACEHOLDERS, 'seq'] as const;
/** Placeholders of a payload template: also the send time, ms since the epoch. */
export const PAYLOAD_PLACEHOLDERS = [...TOPIC_PLACEHOLDERS, 'ts'] as const;
/** Placeholders of a response topic: the receiver's and the controller's client id. */
export const RESPONSE_PLACEHOLDERS = [...DEVICE_PLACEHOLDERS, 'controllerId'] as const;

/** Bytes of a command's header: sequence, receiver, send instant (ns), controller. */
export const COMMAND_HEADER_BYTES = 20;
/** Most user properties a group may send. */
const MAX_USER_PROPERTIES = 32;

/** A last will, its templates not yet rendered. */
export interface WillPlan {
  topic: string;
  payload: string;
  qos: 0 | 1 | 2;
  retain: boolean;
}

/** The MQTT session of a group's devices. */
export interface GroupSessionPlan {
  clean: boolean;
  /** MQTT 5 session expiry, s; null: not sent. */
  sessionExpirySec: number | null;
  keepaliveSec: number;
  will: WillPlan | null;
  /** MQTT 5 user properties on CONNECT and every publish; null: none. */
  userProperties: Record<string, string> | null;
}

/** What a group publishes and subscribes to. */
export interface GroupTrafficPlan {
  /** Telemetry topic template (its own round trip). */
  topic: string;
  qos: 0 | 1 | 2;
  retain: boolean;
  /** Binary payload size, bytes (unused with a template). */
  payloadBytes: number;
  /** JSON payload template; null: binary payloads of `payloadBytes`. */
  payloadTemplate: string | null;
  /** Receivers: their command and response topic templates. */
  commands: { topic: string; responseTopic: string } | null;
  /** Controllers: the receiver groups (indices in `plan.groups`) and the rate per client. */
  controller: { receivers: number[]; ratePerSec: number } | null;
  /** Monitors: their filters, and those that carry wills. */
  monitor: { filters: string[]; willFilters: string[] } | null;
}

/** A group's behaviour, traffic and session, as the plan holds them. */
export interface GroupBehaviourPlan {
  behaviour: Behaviour;
  /** Null when the scenario has `traffic: false`. */
  traffic: GroupTrafficPlan | null;
  session: GroupSessionPlan;
}

type GroupInput = NonNullable<Scenario['groups']>[number];

/** The groups of a scenario, the default single group when it gives none. */
export function groupsOf(s: Scenario): GroupInput[] {
  const fleet = {
    name: 'fleet',
    share: 1,
    expect: 'accept' as const,
    behaviour: 'telemetry' as const,
  };
  return s.groups ?? [{ ...fleet, retain: false }];
}

/** Resolves every group's behaviour, in `groups` order. Call after {@link checkBehaviours}. */
export function resolveBehaviours(s: Scenario): GroupBehaviourPlan[] {
  const groups = groupsOf(s);
  return groups.map((g) => ({
    behaviour: g.behaviour,
    traffic: s.traffic === false ? null : groupTraffic(s, g, groups),
    session: {
      clean: g.cleanSession ?? s.mqtt.cleanSession,
      sessionExpirySec: g.sessionExpirySec ?? null,
      keepaliveSec: g.keepaliveSec ?? s.mqtt.keepaliveSec,
      will: g.will ?? null,
      userProperties: g.userProperties ?? null,
    },
  }));
}

function groupTraffic(s: Scenario, g: GroupInput, groups: GroupInput[]): GroupTrafficPlan {
  const t = s.traffic as Exclude<Scenario['traffic'], false>;
  const receivers = groups.flatMap((r, i) =>
    r.behaviour === 'commands' && (g.controller?.receivers ?? [r.name]).includes(r.name) ? [i] : [],
  );
  return {
    topic: g.topic ?? t.topic,
    qos: g.qos ?? t.qos,
    retain: g.retain,
    payloadBytes: g.payloadBytes ?? Math.max(t.payloadBytes, minPayload(g.behaviour)),
    payloadTemplate: g.payloadTemplate ?? null,
    commands:
      g.behaviour === 'commands'
        ? {
            topic: g.commands?.topic ?? DEFAULT_COMMAND_TOPIC,
            responseTopic: g.commands?.responseTopic ?? DEFAULT_RESPONSE_TOPIC,
          }
        : null,
    controller:
      g.behaviour === 'controller'
        ? { receivers, ratePerSec: g.controller?.ratePerSec ?? 10 }
        : null,
    monitor: g.behaviour === 'monitor' ? monitorFilters(s, g, groups) : null,
  };
}

function minPayload(b: Behaviour): number {
  return b === 'commands' || b === 'controller' ? COMMAND_HEADER_BYTES : 16;
}

/** A monitor's filters: its own, or every telemetry topic as a wildcard; plus the wills'. */
function monitorFilters(s: Scenario, g: GroupInput, groups: GroupInput[]) {
  const t = s.traffic as Exclude<Scenario['traffic'], false>;
  const own =
    g.monitor?.filters ??
    groups
      .filter((d) => d.behaviour === 'telemetry')
      .map((d) => anyDevice(d.topic ?? t.topic, TOPIC_PLACEHOLDERS, 'topic'));
  const willFilters = groups.flatMap((d) =>
    d.will === undefined ? [] : [anyDevice(d.will.topic, DEVICE_PLACEHOLDERS, 'will.topic')],
  );
  return { filters: [...new Set(own)], willFilters: [...new Set(willFilters)] };
}

/** The filter matching a template's topic for every device: each placeholder `+`. */
function anyDevice(source: string, allowed: readonly string[], setting: string): string {
  return wildcardFilter(compileTemplate(source, allowed, setting), {}, setting);
}

/** Every problem of the groups' behaviour keys, each with its path. */
export function checkBehaviours(s: Scenario): string[] {
  const groups = groupsOf(s);
  const problems: string[] = [];
  groups.forEach((g, i) => problems.push(...checkGroup(s, g, `groups[${i}]`, groups)));
  groups.forEach((g, i) => {
    if (g.behaviour !== 'commands' || s.traffic === false) return;
    const commanded = groups.some(
      (c) => c.behaviour === 'controller' && (c.controller?.receivers ?? [g.name]).includes(g.name),
    );
    if (!commanded) {
      problems.push(
        `groups[${i}] (${g.name}) has behaviour commands but no controller commands it ` +
          '(add a group with behaviour: controller; its controller.receivers, if given, ' +
          `must name "${g.name}")`,
      );
    }
  });
  return problems;
}

function checkGroup(s: Scenario, g: GroupInput, at: string, groups: GroupInput[]): string[] {
  const problems: string[] = [];
  const attempt = (f: () => unknown) => problems.push(...problemOf(f));
  for (const key of ['commands', 'controller', 'monitor'] as const) {
    const owner = key === 'commands' ? 'commands' : key;
    if (g[key] !== undefined && g.behaviour !== owner) {
      problems.push(`${at}.${key} needs behaviour: ${owner} (got behaviour ${g.behaviour})`);
    }
  }
  if (g.behaviour !== 'telemetry' && s.traffic === false) {
    problems.push(`${at}.behaviour ${g.behaviour} needs traffic (got traffic: false)`);
  }
  if (g.behaviour !== 'telemetry' && g.publishTopic !== undefined) {
    problems.push(`${at}.publishTopic needs behaviour: telemetry (got ${g.behaviour})`);
  }
  problems.push(...checkSession(s, g, at));
  if (g.topic !== undefined) attempt(() => checkTopic(g.topic ?? '', `${at}.topic`));
  attempt(() => checkPayload(s, g, at));
  if (g.commands !== undefined) attempt(() => checkCommands(g.commands ?? {}, `${at}.commands`));
  g.controller?.receivers?.forEach((name, k) => {
    const r = groups.find((o) => o.name === name);
    if (r?.behaviour !== 'commands') {
      const why = r === undefined ? 'no group has that name' : `its behaviour is ${r.behaviour}`;
      problems.push(
        `${at}.controller.receivers[${k}] must name a commands group (got "${name}": ${why})`,
      );
    }
  });
  if (g.behaviour === 'controller' && !groups.some((r) => r.behaviour === 'commands')) {
    problems.push(`${at} has behaviour controller but no group has behaviour commands`);
  }
  if (g.behaviour === 'monitor' && s.traffic !== false) {
    g.monitor?.filters?.forEach((f, k) => {
      const why = filterProblem(f);
      if (why !== null) problems.push(`${at}.monitor.filters[${k}]: ${why} (got "${f}")`);
    });
    attempt(() => {
      const m = monitorFilters(s, g, groups);
      if (m.filters.length + m.willFilters.length > 0) return;
      problems.push(
        `${at} (${g.name}) has behaviour monitor but nothing to monitor: no telemetry group ` +
          'and no will (give monitor.filters)',
      );
    });
  }
  return problems;
}

function checkSession(s: Scenario, g: GroupInput, at: string): string[] {
  const problems: string[] = [];
  const v5 = s.mqtt.version === 5;
  if (g.sessionExpirySec !== undefined && !v5) {
    problems.push(`${at}.sessionExpirySec needs mqtt.version 5 (got ${g.sessionExpirySec})`);
  }
  if (g.userProperties !== undefined) {
    const n = Object.keys(g.userProperties).length;
    if (!v5) problems.push(`${at}.userProperties needs mqtt.version 5 (got ${n} properties)`);
    if (n > MAX_USER_PROPERTIES) {
      problems.push(`${at}.userProperties: at most ${MAX_USER_PROPERTIES} (got ${n})`);
    }
  }
  if (g.will !== undefined) {
    try {
      checkTopic(g.will.topic, `${at}.will.topic`, DEVICE_PLACEHOLDERS);
      compileTemplate(g.will.payload, DEVICE_PLACEHOLDERS, `${at}.will.payload`, 'literal');
    } catch (err) {
      problems.push(err instanceof Error ? err.message : String(err));
    }
  }
  return problems;
}

/** Checks a topic template: known placeholders, no wildcards, `{seq}` a whole level. */
export function checkTopic(
  source: string,
  setting: string,
  allowed: readonly string[] = TOPIC_PLACEHOLDERS,
): Template {
  const template = compileTemplate(source, allowed, setting);
  if (/[#+]/.test(source)) {
    throw new Error(`${setting} must not contain wildcards (got "${source}")`);
  }
  if (template.names.has('seq')) wildcardFilter(template, fixedExcept(template, 'seq'), setting);
  return template;
}

/** Every placeholder of `t` but `name`, with a stand-in value. */
function fixedExcept(t: Template, name: string): Record<string, string> {
  return Object.fromEntries([...t.names].filter((n) => n !== name).map((n) => [n, 'x']));
}

function checkPayload(s: Scenario, g: GroupInput, at: string): void {
  if (g.payloadTemplate !== undefined && g.payloadBytes !== undefined) {
    throw new Error(`${at}: give payloadBytes or payloadTemplate, not both`);
  }
  const min = minPayload(g.behaviour);
  const open = s.traffic !== false && s.traffic.model === 'open' && g.behaviour === 'telemetry';
  const need = open ? 24 : min;
  if (g.payloadBytes !== undefined && g.payloadBytes < need) {
    throw new Error(`${at}.payloadBytes must be at least ${need} (got ${g.payloadBytes})`);
  }
  if (g.payloadTemplate === undefined) return;
  const setting = `${at}.payloadTemplate`;
  const t = compileTemplate(g.payloadTemplate, PAYLOAD_PLACEHOLDERS, setting, 'literal');
  const sample = Object.fromEntries(PAYLOAD_PLACEHOLDERS.map((n) => [n, 1]));
  let parsed: unknown;
  try {
    parsed = JSON.parse(t.render(sample));
  } catch {
    parsed = undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(
      `${setting} must be a JSON object once rendered (got "${g.payloadTemplate.slice(0, 60)}")`,
    );
  }
  if ('fb' in parsed) throw new Error(`${setting} must not have its own "fb" field (fleetbench's)`);
}

function checkCommands(c: { topic?: string; responseTopic?: string }, at: string): void {
  checkTopic(c.topic ?? DEFAULT_COMMAND_TOPIC, `${at}.topic`, DEVICE_PLACEHOLDERS);
  const setting = `${at}.responseTopic`;
  const source = c.responseTopic ?? DEFAULT_RESPONSE_TOPIC;
  const t = compileTemplate(source, RESPONSE_PLACEHOLDERS, setting);
  if (/[#+]/.test(source))
    throw new Error(`${setting} must not contain wildcards (got "${source}")`);
  wildcardFilter(t, { controllerId: 'x' }, setting);
}

/** What a group does, for its line of the plan: `telemetry at QoS 1 to ..., will on ...`. */
export function describeBehaviour(g: GroupBehaviourPlan, groupNames: readonly string[]): string {
  const t = g.traffic;
  const parts: string[] = [];
  if (t === null) parts.push(`${g.behaviour} (no traffic)`);
  else if (g.behaviour === 'commands' && t.commands !== null) {
    parts.push(
      `commands: receivers at QoS ${t.qos} on ${t.commands.topic}, answering on ` +
        t.commands.responseTopic,
    );
  } else if (g.behaviour === 'controller' && t.controller !== null) {
    const to = t.controller.receivers.map((i) => groupNames[i] ?? '?').join(', ');
    parts.push(`controller: ${t.controller.ratePerSec} commands/s each to ${to} at QoS ${t.qos}`);
  } else if (g.behaviour === 'monitor' && t.monitor !== null) {
    const all = [...new Set([...t.monitor.filters, ...t.monitor.willFilters])];
    parts.push(`monitor of ${all.join(' ')} at QoS ${t.qos}`);
  } else {
    const body = t.payloadTemplate === null ? `${t.payloadBytes} B` : 'JSON';
    parts.push(`telemetry at QoS ${t.qos} to ${t.topic} (${body})`);
  }
  if (t?.retain === true) parts.push('retained');
  const s = g.session;
  if (!s.clean) parts.push('persistent session');
  if (s.sessionExpirySec !== null) parts.push(`session expiry ${s.sessionExpirySec} s`);
  parts.push(`keepalive ${s.keepaliveSec} s`);
  if (s.will !== null) parts.push(`will on ${s.will.topic} at QoS ${s.will.qos}`);
  const props = Object.keys(s.userProperties ?? {}).length;
  if (props > 0) parts.push(`${props} user propert${props === 1 ? 'y' : 'ies'}`);
  return parts.join(', ');
}
