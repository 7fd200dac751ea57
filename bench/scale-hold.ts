/**
 * The scale probe's hold: every shard holds its devices until all shards are holding, then for
 * `--hold-sec` more, so the whole fleet is connected at once however unevenly the shards' ramps
 * went on a shared machine. Each shard serves its metrics endpoint (`--metrics-port 0`); this
 * reads their phase and connected gauges and stops the shards (SIGINT: a graceful stop, the
 * report keeps its phases) once the fleet has been held long enough.
 */

import type { ChildProcess } from 'node:child_process';

/** What one shard's endpoint says. */
export interface ShardGauges {
  phase: string | null;
  connected: number;
}

/** Reads the running stage and the connected gauge from a Prometheus text exposition. */
export function readGauges(text: string): ShardGauges {
  let phase: string | null = null;
  let connected = 0;
  for (const line of text.split('\n')) {
    const stage = /^fleetbench_phase\{fleetbench_phase="([^"]+)"\} 1(?:\.0)?$/.exec(line);
    if (stage !== null) phase = stage[1] ?? null;
    const gauge = /^fleetbench_devices_connected (\d+(?:\.\d+)?)$/.exec(line);
    if (gauge !== null) connected = Number(gauge[1]);
  }
  return { phase, connected };
}

/** The endpoint URL a shard logs on stderr (`metrics endpoint: http://...`), once it does. */
export function endpointOf(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (d: Buffer) => {
      seen = (seen + d.toString()).slice(-2000);
      const url = /metrics endpoint: (http:\/\/\S+\/metrics)/.exec(seen)?.[1];
      if (url === undefined) return;
      child.stderr?.off('data', onData);
      resolve(url);
    };
    child.stderr?.on('data', onData);
    child.once('exit', () => reject(new Error('the shard exited before serving its metrics')));
  });
}

/** Options of {@link holdThenStop}. */
export interface HoldOptions {
  /** Devices of the whole fleet. */
  devices: number;
  /** How long to hold once every shard is holding, ms. */
  holdMs: number;
  /** Polling period, ms. */
  everyMs: number;
  log: (line: string) => void;
}

async function scrape(url: string): Promise<ShardGauges | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    return readGauges(await res.text());
  } catch {
    // A busy or exiting shard: read it again on the next poll.
    return null;
  }
}

/**
 * Watches the shards until they have all been in their `hold` phase for `holdMs`, then asks
 * each to stop (SIGINT). Resolves with the most devices seen connected at one poll, or when any
 * shard exits first (a failure or the time limit, which the caller handles).
 */
export async function holdThenStop(
  children: ChildProcess[],
  urls: string[],
  o: HoldOptions,
): Promise<number> {
  let most = 0;
  let holdingSince: number | null = null;
  const exited = () => children.some((c) => c.exitCode !== null || c.signalCode !== null);
  // Bounded: the caller's time limit ends the shards, and then this loop.
  while (!exited()) {
    await new Promise((r) => setTimeout(r, o.everyMs));
    const gauges = await Promise.all(urls.map(scrape));
    if (gauges.some((g) => g === null)) continue;
    const connected = gauges.reduce((sum, g) => sum + (g?.connected ?? 0), 0);
    most = Math.max(most, connected);
    const holding = gauges.every((g) => g?.phase === 'hold');
    if (!holding) continue;
    if (holdingSince === null) {
      holdingSince = Date.now();
      o.log(`every shard holding: ${connected} of ${o.devices} devices connected`);
    }
    if (Date.now() - holdingSince >= o.holdMs) {
      o.log(`held ${o.holdMs / 1000} s with every shard holding: stopping the shards`);
      for (const c of children) if (c.exitCode === null && c.pid) process.kill(c.pid, 'SIGINT');
      return most;
    }
  }
  return most;
}
