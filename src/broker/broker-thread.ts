/**
 * Runs the embedded broker in its own worker thread, so its work does not share the
 * coordinator's event loop and distort the timings the coordinator relays.
 */

import { Worker } from 'node:worker_threads';
import { FleetbenchError } from '../errors.js';
import type { EmbeddedBroker, EmbeddedBrokerOptions } from './embedded-broker.js';

type BrokerThreadMessage =
  | { type: 'listening'; host: string; port: number }
  | { type: 'error'; message: string; code?: string }
  | { type: 'closed' };

/** Starts the embedded broker in a worker thread; resolves once it listens. */
export async function startBrokerThread(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const worker = new Worker(new URL('./broker-thread-main.js', import.meta.url), {
    workerData: options,
  });
  const first = await new Promise<BrokerThreadMessage>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  }).catch((err: unknown) => ({ type: 'error' as const, message: String(err) }));
  if (first.type !== 'listening') {
    await worker.terminate();
    const detail = first.type === 'error' ? first.message : 'closed early';
    throw new FleetbenchError('E_BROKER', `the embedded broker did not start: ${detail}`, {
      hint: 'check the certificates in certs/ (fleetbench certs init --force makes new ones)',
    });
  }
  return {
    host: first.host,
    port: first.port,
    close: async () => {
      const closed = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage({ type: 'close' });
      // A broker that does not close in time is ended; this is our own thread.
      const timer = setTimeout(() => void worker.terminate(), 5000);
      await closed;
      clearTimeout(timer);
    },
  };
}
