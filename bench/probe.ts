/**
 * A probe process: started by the bench with `fork` (and --expose-gc), it gets one spec, runs
 * one client kind against the broker, and sends back its result. Its process CPU time is only
 * the client's, because the broker and the bench run in other processes.
 */

import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { MetricsRecorder } from '../src/metrics/recorder.js';
import { connectorFor } from './clients.js';
import { runConnectProbe } from './connect-probe.js';
import { runFanoutProbe, runRoundtripProbe } from './message-probes.js';
import { runReconnectProbe } from './reconnect-probe.js';
import type { BenchMessage, ProbeMessage, ProbeResult, ProbeSpec } from './protocol.js';

function send(m: ProbeMessage): void {
  process.send?.(m);
}

let go: (() => void) | null = null;
const hooks = {
  ready: () =>
    new Promise<void>((resolve) => {
      go = resolve;
      send({ type: 'ready' });
    }),
  measured: () => send({ type: 'measured' }),
};

async function run(spec: ProbeSpec): Promise<ProbeResult> {
  const secureContext = tls.createSecureContext({
    ca: readFileSync(spec.identity.caFile),
    cert: readFileSync(spec.identity.certFile),
    key: readFileSync(spec.identity.keyFile),
    maxVersion: spec.identity.maxVersion,
  });
  const recorder = spec.client === 'fleetbench' ? new MetricsRecorder() : null;
  const timeoutMs =
    spec.probe === 'connect' || spec.probe === 'reconnect' ? spec.timeoutMs : 10_000;
  const connect = connectorFor(spec.client, {
    secureContext,
    timeoutMs,
    ...(recorder && { recorder }),
  });
  switch (spec.probe) {
    case 'connect':
      return runConnectProbe(spec, connect, hooks);
    case 'fanout':
      return runFanoutProbe(spec, connect, recorder, hooks);
    case 'roundtrip':
      return runRoundtripProbe(spec, connect, recorder);
    case 'reconnect':
      return runReconnectProbe(spec, connect, hooks);
  }
}

process.on('message', (m: BenchMessage) => {
  if (m.type === 'go') {
    go?.();
    return;
  }
  // The probe is done after one spec: exiting closes whatever sockets are still open.
  run(m.spec).then(
    (result) => process.send?.({ type: 'result', result }, () => process.exit(0)),
    (err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      process.send?.({ type: 'error', message }, () => process.exit(1));
    },
  );
});
