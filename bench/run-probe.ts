/**
 * The bench's side of a probe: fork the probe process, hand it its spec, and sample the brokers'
 * CPU exactly at the edges of the probe's measured phase. Ends only the child it started.
 */

import { fork } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { processesCpuUs } from '../src/metrics/proc-stat.js';
import type { BenchMessage, ProbeMessage, ProbeResult, ProbeSpec } from './protocol.js';

/** A probe's result with the brokers' CPU over its measured phase. */
export interface ProbeOutcome<R extends ProbeResult> {
  result: R;
  /** CPU the brokers used during the measured phase, µs (0 when none was sampled). */
  brokerCpuUs: number;
}

const PROBE_FILE = new URL('./probe.js', import.meta.url);

/**
 * Runs one probe to its result.
 *
 * @param brokerPids processes whose CPU is sampled at the phase edges
 * @param timeoutMs the whole probe's limit, ms; past it the child is killed and this throws
 * @param profileDir when set, the probe writes a V8 CPU profile `<probe>-<client>.cpuprofile`
 *   there (node --cpu-prof), for Chrome DevTools or speedscope
 */
export async function runProbe<R extends ProbeResult>(
  spec: ProbeSpec,
  brokerPids: readonly number[],
  timeoutMs: number,
  profileDir: string | null = null,
): Promise<ProbeOutcome<R>> {
  const profile = profileDir
    ? [
        '--cpu-prof',
        `--cpu-prof-dir=${profileDir}`,
        `--cpu-prof-name=${spec.probe}-${spec.client}.cpuprofile`,
      ]
    : [];
  const child = fork(PROBE_FILE, [], {
    execArgv: ['--expose-gc', ...profile],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let brokerAtStart = 0;
  let brokerCpuUs = 0;
  try {
    const result = await new Promise<R>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${spec.probe} probe (${spec.client}) exceeded ${timeoutMs} ms`)),
        timeoutMs,
      );
      const done = (f: () => void) => {
        clearTimeout(timer);
        f();
      };
      child.on('message', (m: ProbeMessage) => {
        if (m.type === 'ready') {
          brokerAtStart = processesCpuUs(brokerPids);
          child.send({ type: 'go' } satisfies BenchMessage);
        } else if (m.type === 'measured') {
          brokerCpuUs = processesCpuUs(brokerPids) - brokerAtStart;
        } else if (m.type === 'result') {
          done(() => resolve(m.result as R));
        } else {
          done(() => reject(new Error(`${spec.probe} probe (${spec.client}): ${m.message}`)));
        }
      });
      child.once('exit', (code) =>
        done(() => reject(new Error(`${spec.probe} probe (${spec.client}) exited (${code})`))),
      );
      child.send({ type: 'spec', spec } satisfies BenchMessage);
    });
    return { result, brokerCpuUs };
  } finally {
    if (child.exitCode === null && child.pid !== undefined) {
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    }
  }
}

/**
 * Waits until the brokers have used under 1% of a core for 200 ms (their work for the previous
 * probe's closed connections is done), at most `limitMs`.
 */
export async function waitBrokersIdle(pids: readonly number[], limitMs = 15_000): Promise<void> {
  const end = Date.now() + limitMs;
  let last = processesCpuUs(pids);
  while (Date.now() < end) {
    await sleep(200);
    const now = processesCpuUs(pids);
    if (now - last < 2000) return;
    last = now;
  }
}
