/** Entry point of the embedded broker's worker thread (see broker-thread.ts). */

import { parentPort, workerData } from 'node:worker_threads';
import { startEmbeddedBroker, type EmbeddedBrokerOptions } from './embedded-broker.js';

const port = parentPort;
if (port === null) throw new Error('broker-thread-main must run in a worker thread');

try {
  const broker = await startEmbeddedBroker(workerData as EmbeddedBrokerOptions);
  port.postMessage({ type: 'listening', host: broker.host, port: broker.port });
  port.on('message', (msg: { type: string }) => {
    if (msg.type !== 'close') return;
    void broker.close().then(() => {
      port.postMessage({ type: 'closed' });
      port.close();
    });
  });
} catch (err) {
  const e = err as NodeJS.ErrnoException;
  port.postMessage({ type: 'error', message: e.message, code: e.code });
}
