/**
 * Loading a scenario: read the file, parse YAML or JSON, apply CLI overrides, validate once
 * (every problem reported together, each with its path), then resolve files and the target.
 */

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FleetbenchError } from '../errors.js';
import { parseScenarioText } from './parse-text.js';
import type { Plan, TargetPlan } from './plan.js';
import { resolvePhases } from './phases.js';
import { describeIssue, invalidScenario } from './problems.js';
import { resolveIdentity } from './identity-plan.js';
import { resolveGroups } from './resolve-fleet.js';
import { checkSemantics } from './semantics.js';
import { wholeFleet } from './shard.js';
import { expandSourceAddresses } from './source-addresses.js';
import { parseThreshold, type ThresholdPlan } from './thresholds.js';
import { ScenarioSchema, type Scenario } from './schema.js';
import { resolveTargets } from './target.js';
import { resolveCapacity } from './capacity.js';

/** Settings given on the command line; they win over the file's. */
export interface ScenarioOverrides {
  target?: string;
  /** `--transport`: `tls`, `wss`, `tcp` or `ws` (checked against the target's scheme). */
  transport?: string;
  devices?: number;
  workers?: number;
  durationSec?: number;
  /** Threshold rules (`--threshold`), added to the file's. */
  thresholds?: string[];
  /** `--source-addresses`: replaces `connect.sourceAddresses` (a list or a range). */
  sourceAddresses?: string;
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
    throw invalidScenario(source.label, problems);
  }
  const scenario = result.data;
  const resolved = resolvePhases(scenario);
  const phaseNames = new Set(resolved.phases.map((p) => p.name));
  const thresholds = resolveThresholds(scenario, source.overrides?.thresholds ?? [], phaseNames);
  const sources = expandSourceAddresses(scenario.connect.sourceAddresses ?? []);
  const capacity = resolveCapacity(scenario);
  const problems = [
    ...checkSemantics(scenario),
    ...resolved.problems,
    ...thresholds.problems,
    ...capacity.problems,
  ];
  if ('problem' in sources && scenario.connect.sourceAddresses !== undefined) {
    problems.push(sources.problem);
  }
  if (problems.length > 0) throw invalidScenario(source.label, problems);
  const targets = resolveTargets(scenario, source.label);

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
    shard: wholeFleet(scenario.devices),
    identity,
    groups: resolveGroups(scenario, baseDir, certsDir),
    tls: scenario.tls,
    websocket: { subprotocol: scenario.websocket.subprotocol },
    mqtt: scenario.mqtt,
    connect: scenario.connect,
    traffic: scenario.traffic,
    durationSec: scenario.durationSec,
    drainMs: scenario.drainMs,
    phases: resolved.phases,
    thresholds: thresholds.list,
    sourceAddresses: 'addresses' in sources ? sources.addresses : [],
    reconnect: scenario.reconnect === undefined ? null : scenario.reconnect || null,
    capacity: capacity.plan,
  };
}

function applyOverrides(raw: unknown, o: ScenarioOverrides): unknown {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const out: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  if (o.target !== undefined) {
    // --target replaces the file's target or targets.
    out.target = o.target;
    delete out.targets;
  }
  if (o.transport !== undefined) out.transport = o.transport;
  if (o.devices !== undefined) out.devices = o.devices;
  if (o.workers !== undefined) out.workers = o.workers;
  if (o.sourceAddresses !== undefined) {
    const connect = out.connect;
    const base = connect !== null && typeof connect === 'object' ? connect : {};
    out.connect = { ...base, sourceAddresses: o.sourceAddresses.split(',').map((a) => a.trim()) };
  }
  if (o.durationSec !== undefined) {
    out.durationSec = o.durationSec;
    // With phases, --duration is the length of every steady and hold phase.
    if (Array.isArray(out.phases))
      out.phases = out.phases.map((p) => withDuration(p, o.durationSec));
    // In a capacity search it is the length of each step.
    const c = out.capacity;
    if (c !== null && typeof c === 'object' && !Array.isArray(c)) {
      out.capacity = { ...c, stepDurationSec: o.durationSec };
    }
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
