/**
 * Loading a scenario: read the file, parse YAML or JSON, apply CLI overrides, validate once
 * (every problem reported together, each with its path), then resolve files and the target.
 */

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { FleetbenchError } from '../errors.js';
import type { GroupPlan, IdentityPlan, Plan, TargetPlan } from './plan.js';
import { resolvePhases } from './phases.js';
import { expandSourceAddresses } from './source-addresses.js';
import { parseThreshold, type ThresholdPlan } from './thresholds.js';
import { ScenarioSchema, type Scenario } from './schema.js';
import { compileIdentity, compileTemplate } from './template.js';

/** Settings given on the command line; they win over the file's. */
export interface ScenarioOverrides {
  target?: string;
  devices?: number;
  workers?: number;
  durationSec?: number;
  /** Threshold rules (`--threshold`), added to the file's. */
  thresholds?: string[];
}

/** Where the default identity files live (what `certs init` writes). */
export interface LoadOptions {
  /** Directory of the default certificate layout. Default: `certs` under the cwd. */
  certsDir?: string;
  overrides?: ScenarioOverrides;
}

/**
 * Reads, validates and resolves a scenario file into a plan.
 * @throws FleetbenchError E_SCENARIO_PARSE (YAML/JSON syntax, with line and column) or
 *   E_SCENARIO (every validation problem, each with its path and the value given)
 */
export async function loadScenario(file: string, options: LoadOptions = {}): Promise<Plan> {
  const abs = path.resolve(file);
  let bytes: Buffer;
  try {
    bytes = await readFile(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new FleetbenchError('E_SCENARIO', `cannot read scenario ${file} (${code ?? 'error'})`, {
      hint: 'check the path; example scenarios are in scenarios/',
      cause: err,
    });
  }
  const raw = parseScenarioText(bytes.toString('utf8'), file);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return planScenario(raw, { ...options, file: abs, sha256, label: file });
}

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

interface PlanSource extends LoadOptions {
  file: string | null;
  sha256: string | null;
  /** How to name the scenario in messages (the path as the user gave it). */
  label: string;
}

/** Validates parsed scenario data (plus overrides) and resolves it into a plan. */
export function planScenario(raw: unknown, source: PlanSource): Plan {
  const merged = applyOverrides(raw, source.overrides ?? {});
  const result = ScenarioSchema.safeParse(merged);
  if (!result.success) {
    const problems = result.error.issues.flatMap((i) => describeIssue(i, merged));
    throw invalid(source.label, problems);
  }
  const scenario = result.data;
  const resolved = resolvePhases(scenario);
  const phaseNames = new Set(resolved.phases.map((p) => p.name));
  const thresholds = resolveThresholds(scenario, source.overrides?.thresholds ?? [], phaseNames);
  const sources = expandSourceAddresses(scenario.connect.sourceAddresses ?? []);
  const problems = [...checkSemantics(scenario), ...resolved.problems, ...thresholds.problems];
  if ('problem' in sources && scenario.connect.sourceAddresses !== undefined) {
    problems.push(sources.problem);
  }
  if (problems.length > 0) throw invalid(source.label, problems);
  const targets =
    scenario.targets === undefined
      ? [parseTarget(scenario.target, source.label)]
      : scenario.targets.map((t) => parseTarget(t, source.label));

  const baseDir = source.file ? path.dirname(source.file) : process.cwd();
  const certsDir = path.resolve(source.certsDir ?? 'certs');
  const identity = resolveIdentity(scenario.identity, {}, baseDir, certsDir);
  return {
    file: source.file,
    sha256: source.sha256,
    name: scenario.name,
    description: scenario.description,
    target: targets[0] as TargetPlan,
    targets,
    devices: scenario.devices,
    workers: Math.min(scenario.workers ?? os.availableParallelism(), scenario.devices),
    identity,
    groups: resolveGroups(scenario, baseDir, certsDir),
    tls: scenario.tls,
    mqtt: scenario.mqtt,
    connect: scenario.connect,
    traffic: scenario.traffic,
    durationSec: scenario.durationSec,
    drainMs: scenario.drainMs,
    phases: resolved.phases,
    thresholds: thresholds.list,
    sourceAddresses: 'addresses' in sources ? sources.addresses : [],
    reconnect: scenario.reconnect === undefined ? null : scenario.reconnect || null,
  };
}

type IdentityInput = Scenario['identity'];

function resolveIdentity(
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

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Splits the fleet into groups: fixed counts first, then shares by largest remainder. */
function resolveGroups(s: Scenario, baseDir: string, certsDir: string): GroupPlan[] {
  const groups = s.groups ?? [{ name: 'fleet', share: 1, expect: 'accept' as const }];
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
  return groups.map((g, i) => {
    const devices = counts[i] ?? 0;
    const plan: GroupPlan = {
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

function invalid(label: string, problems: string[]): FleetbenchError {
  const n = problems.length;
  return new FleetbenchError('E_SCENARIO', `${label}: ${n} problem${n === 1 ? '' : 's'}`, {
    problems: problems.map((p) => `${p} in ${label}`),
    hint: 'see the scenario reference in README.md (section "Scenario format")',
  });
}

function applyOverrides(raw: unknown, o: ScenarioOverrides): unknown {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const out: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  if (o.target !== undefined) {
    // --target replaces the file's target or targets.
    out.target = o.target;
    delete out.targets;
  }
  if (o.devices !== undefined) out.devices = o.devices;
  if (o.workers !== undefined) out.workers = o.workers;
  if (o.durationSec !== undefined) {
    out.durationSec = o.durationSec;
    // With phases, --duration is the length of every steady and hold phase.
    if (Array.isArray(out.phases))
      out.phases = out.phases.map((p) => withDuration(p, o.durationSec));
  }
  return out;
}

/** Parses the file's thresholds and the command line's, every problem with its path. */
function resolveThresholds(
  s: Scenario,
  fromCli: string[],
  phases: ReadonlySet<string>,
): { list: ThresholdPlan[]; problems: string[] } {
  const list: ThresholdPlan[] = [];
  const problems: string[] = [];
  const add = (where: string, parse: () => ThresholdPlan) => {
    try {
      const t = parse();
      if (t.phase !== null && !phases.has(t.phase)) {
        problems.push(`${where}.phase names no phase of the scenario (got "${t.phase}")`);
      }
      if (t.phase !== null && t.abortOnFail) {
        problems.push(`${where}: abortOnFail works on the whole run's totals, not a phase's`);
      }
      list.push(t);
    } catch (err) {
      problems.push(err instanceof Error ? err.message : String(err));
    }
  };
  (s.thresholds ?? []).forEach((t, i) => {
    const where = `thresholds[${i}]`;
    if (typeof t === 'string') add(where, () => parseThreshold(t, where));
    else add(where, () => parseThreshold(t.expression, where, t));
  });
  for (const rule of fromCli) add('--threshold', () => parseThreshold(rule, '--threshold'));
  return { list, problems };
}

function withDuration(phase: unknown, durationSec: number | undefined): unknown {
  if (phase === null || typeof phase !== 'object') return phase;
  const p = phase as Record<string, unknown>;
  return p.type === 'steady' || p.type === 'hold' ? { ...p, durationSec } : p;
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string[] {
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

/** Rules across settings, and the templates, checked after the schema. */
function checkSemantics(s: Scenario): string[] {
  const problems: string[] = [];
  const attempt = (f: () => void) => {
    try {
      f();
    } catch (err) {
      problems.push(err instanceof Error ? err.message : String(err));
    }
  };
  attempt(() => compileIdentity(s.identity)(s.identity.firstIndex));
  problems.push(...manifestConflicts(s.identity, 'identity'));
  s.groups?.forEach((g, i) => {
    problems.push(...manifestConflicts(g.identity ?? {}, `groups[${i}].identity`));
  });
  problems.push(...checkGroups(s));
  if (s.traffic !== false) {
    const topic = s.traffic.topic;
    attempt(() =>
      compileTemplate(topic, ['i', 'deviceId', 'clientId', 'username'], 'traffic.topic'),
    );
    if (/[#+]/.test(topic))
      problems.push(`traffic.topic must not contain wildcards (got "${topic}")`);
    problems.push(...checkTrafficModel(s.traffic));
  }
  problems.push(...checkTargets(s));
  const embedded = (s.target === undefined || s.target === 'embedded') && s.targets === undefined;
  if (embedded && s.mqtt.version === 5) {
    problems.push(
      'mqtt.version 5 needs a target: the embedded broker (aedes) speaks MQTT 3.1.1 only (got 5)',
    );
  }
  if (s.tls.minVersion === 'TLSv1.3' && s.tls.maxVersion === 'TLSv1.2') {
    problems.push('tls.minVersion is above tls.maxVersion (got TLSv1.3 > TLSv1.2)');
  }
  if (s.target !== undefined && s.target !== 'embedded') {
    try {
      parseTarget(s.target, 'scenario');
    } catch (err) {
      problems.push(err instanceof Error ? err.message : String(err));
    }
  }
  return problems;
}

function checkTargets(s: Scenario): string[] {
  if (s.targets === undefined) return [];
  const problems: string[] = [];
  if (s.target !== undefined) problems.push('give target or targets, not both');
  const schemes = new Set<string>();
  s.targets.forEach((t, i) => {
    try {
      schemes.add(parseTarget(t, 'scenario').protocol);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      problems.push(`targets[${i}]: ${message}`);
    }
  });
  if (schemes.size > 1) problems.push('targets must all use the same scheme (mqtts:// or mqtt://)');
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

/** A manifest gives each device its own certificate: a shared `cert`/`key` beside it is a slip. */
function manifestConflicts(id: Partial<IdentityInput>, where: string): string[] {
  if (id.manifest === undefined) return [];
  return (['cert', 'key'] as const)
    .filter((k) => id[k] !== undefined)
    .map((k) => `${where}.${k} cannot be combined with ${where}.manifest (got "${id[k]}")`);
}

function publishTopicProblems(s: Scenario, topic: string | undefined, i: number): string[] {
  if (topic === undefined) return [];
  const where = `groups[${i}].publishTopic`;
  if (s.traffic === false) return [`${where} needs traffic (got traffic: false)`];
  if (/[#+]/.test(topic)) return [`${where} must not contain wildcards (got "${topic}")`];
  try {
    compileTemplate(topic, ['i', 'deviceId', 'clientId', 'username'], where);
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

/** Parses `mqtts://host:port` (or `embedded`, or nothing) into a target. */
export function parseTarget(target: string | undefined, label: string): TargetPlan {
  if (target === undefined || target === 'embedded') {
    return { kind: 'embedded', protocol: 'mqtts', host: '127.0.0.1', port: 0 };
  }
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new FleetbenchError(
      'E_SCENARIO',
      `target must be a URL like mqtts://host:8883 (got "${target}")`,
      {
        hint: `fix target in ${label} or --target`,
      },
    );
  }
  const protocol = url.protocol.replace(/:$/, '');
  if (protocol !== 'mqtts' && protocol !== 'mqtt') {
    throw new FleetbenchError('E_SCENARIO', `target must use mqtts:// (got "${target}")`, {
      hint: 'devices connect with mutual TLS: mqtts://host:8883; mqtt:// is plain TCP',
    });
  }
  const port = url.port === '' ? (protocol === 'mqtts' ? 8883 : 1883) : Number(url.port);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { kind: 'url', protocol, host, port };
}
