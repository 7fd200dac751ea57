/**
 * The Mosquittos the bench starts: one per `perBroker` devices (each process has the machine's
 * 20,000 open-file limit), each with its own mutual-TLS listener on loopback. The start-up code
 * is the tests' own helper, so both start Mosquitto the same way.
 */

import { haveMosquitto, startMosquitto, type RunningMosquitto } from '../test/helpers/mosquitto.js';
import { FleetbenchError } from '../src/errors.js';
import type { CertsLayout } from '../src/fleet/certs-init.js';

/**
 * Bench-only settings: room for a fan-out's queued QoS 1 messages (the default 1000 per client
 * would drop messages and hide the client's cost behind losses).
 */
const BENCH_CONFIG = ['max_queued_messages 200000', 'max_connections -1'];

/**
 * Starts `count` Mosquittos, stopping those already started if one fails.
 *
 * @throws FleetbenchError `E_BROKER` when Mosquitto is not installed or does not start.
 */
export async function startBrokers(
  layout: CertsLayout,
  count: number,
): Promise<RunningMosquitto[]> {
  if (!(await haveMosquitto())) {
    throw new FleetbenchError(
      'E_BROKER',
      'the bench needs Mosquitto 2 and mosquitto is not on PATH',
      {
        hint: 'apt-get install -y mosquitto',
      },
    );
  }
  const started: RunningMosquitto[] = [];
  try {
    for (let i = 0; i < count; i++) {
      started.push(
        await startMosquitto({
          caFile: layout.caCert,
          certFile: layout.serverCert,
          keyFile: layout.serverKey,
          extraConfig: BENCH_CONFIG,
        }),
      );
    }
  } catch (err) {
    await stopBrokers(started);
    throw new FleetbenchError('E_BROKER', `Mosquitto did not start: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return started;
}

/** Stops the given Mosquittos (each by its own pid). */
export async function stopBrokers(brokers: readonly RunningMosquitto[]): Promise<void> {
  await Promise.all(brokers.map((b) => b.stop()));
}
