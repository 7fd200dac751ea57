/**
 * Target URLs and the transport: `mqtts://host:8883`, `wss://host:8084/mqtt`, `mqtt://host:1883`,
 * `ws://host:8083/mqtt`, or the embedded broker (absent, or `embedded`) on the scenario's
 * `transport`. The scheme and the `transport` key must agree.
 */

import { FleetbenchError } from '../errors.js';
import type { TargetPlan } from './plan.js';
import type { Scenario } from './schema.js';
import {
  DEFAULT_WEBSOCKET_PATH,
  defaultPort,
  schemeOf,
  transportOf,
  usesWebSocket,
  type TargetScheme,
  type Transport,
} from './transport.js';

/** The scenario keys a target is read with. */
export interface TargetSettings {
  transport?: Transport;
  websocket?: { path?: string };
}

const SCHEMES = 'mqtts:// (TLS), wss:// (secure WebSockets), mqtt:// (plain TCP) or ws://';

/**
 * Parses a target URL (or `embedded`, or nothing) into a target.
 * @param label how to name the scenario in the hint (its path)
 * @throws FleetbenchError `E_SCENARIO` for a bad URL, an unknown scheme, a path where none
 *   applies, or a scheme that disagrees with `transport`
 */
export function parseTarget(
  target: string | undefined,
  label: string,
  settings: TargetSettings = {},
): TargetPlan {
  const hint = `fix target in ${label} or --target`;
  if (target === undefined || target === 'embedded') {
    const protocol = schemeOf(settings.transport ?? 'tls');
    const path = usesWebSocket(protocol) ? webSocketPath(undefined, settings, hint) : undefined;
    return { kind: 'embedded', protocol, host: '127.0.0.1', port: 0, ...(path ? { path } : {}) };
  }
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new FleetbenchError(
      'E_SCENARIO',
      `target must be a URL like mqtts://host:8883 (got "${target}")`,
      { hint },
    );
  }
  const scheme = url.protocol.replace(/:$/, '');
  const transport = transportOf(scheme);
  if (transport === undefined) {
    throw new FleetbenchError('E_SCENARIO', `target must use ${SCHEMES} (got "${target}")`, {
      hint: 'devices connect with mutual TLS: mqtts://host:8883, or wss://host:port/mqtt',
    });
  }
  const protocol = scheme as TargetScheme;
  checkTransport(target, protocol, settings.transport);
  const urlPath = url.pathname + url.search;
  const given = urlPath === '' || urlPath === '/' ? undefined : urlPath;
  if (!usesWebSocket(protocol) && given !== undefined) {
    throw new FleetbenchError(
      'E_SCENARIO',
      `target "${target}" has a path (${given}), which only wss:// and ws:// targets take`,
      { hint: `give ${scheme}://host:port, or wss://host:port${given} for WebSockets` },
    );
  }
  const port = url.port === '' ? defaultPort(protocol) : Number(url.port);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const path = usesWebSocket(protocol) ? webSocketPath(given, settings, hint) : undefined;
  return { kind: 'url', protocol, host, port, ...(path === undefined ? {} : { path }) };
}

function checkTransport(target: string, scheme: TargetScheme, transport?: Transport): void {
  const own = transportOf(scheme);
  if (transport === undefined || own === transport) return;
  const wanted = schemeOf(transport);
  throw new FleetbenchError(
    'E_SCENARIO',
    `target "${target}" is ${own} (${scheme}://) but transport is ${transport}`,
    {
      hint:
        `give the target as ${wanted}://host:port${usesWebSocket(wanted) ? '/mqtt' : ''} ` +
        '(the port of that listener), or drop transport: the scheme says it',
    },
  );
}

function webSocketPath(given: string | undefined, s: TargetSettings, hint: string): string {
  const configured = s.websocket?.path;
  if (given !== undefined && configured !== undefined && given !== configured) {
    throw new FleetbenchError(
      'E_SCENARIO',
      `the target's path (${given}) and websocket.path (${configured}) differ`,
      { hint: `give the path once: in the URL or in websocket.path; ${hint}` },
    );
  }
  return given ?? configured ?? DEFAULT_WEBSOCKET_PATH;
}

/**
 * The problems of a scenario's target keys, one line each: bad URLs, mixed schemes across
 * `targets`, `transport` disagreeing with a scheme, a WebSocket path on a non-WebSocket target.
 */
export function targetProblems(s: Scenario): string[] {
  const problems: string[] = [];
  const settings = settingsOf(s);
  const attempt = (t: string | undefined, prefix: string): TargetPlan | undefined => {
    try {
      return parseTarget(t, 'the scenario', settings);
    } catch (err) {
      const hint = err instanceof FleetbenchError && err.hint ? `: ${err.hint}` : '';
      problems.push(`${prefix}${err instanceof Error ? err.message : String(err)}${hint}`);
      return undefined;
    }
  };
  let plans: (TargetPlan | undefined)[];
  if (s.targets === undefined) {
    plans = [attempt(s.target, '')];
  } else {
    if (s.target !== undefined) problems.push('give target or targets, not both');
    plans = s.targets.map((t, i) => attempt(t, `targets[${i}]: `));
    const schemes = new Set(plans.flatMap((p) => (p === undefined ? [] : [p.protocol])));
    if (schemes.size > 1) {
      problems.push(`targets must all use the same scheme (got ${[...schemes].join(', ')})`);
    }
  }
  const first = plans[0];
  if (s.websocket.path !== undefined && first !== undefined && !usesWebSocket(first.protocol)) {
    problems.push(
      `websocket.path applies to wss:// and ws:// targets (the target is ${first.protocol}://)`,
    );
  }
  return problems;
}

/** The plan's targets (after {@link targetProblems} found none). */
export function resolveTargets(s: Scenario, label: string): TargetPlan[] {
  const settings = settingsOf(s);
  return s.targets === undefined
    ? [parseTarget(s.target, label, settings)]
    : s.targets.map((t) => parseTarget(t, label, settings));
}

function settingsOf(s: Scenario): TargetSettings {
  return { transport: s.transport, websocket: s.websocket };
}
