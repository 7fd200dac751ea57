/** One counted subscription: `subscribe.ok` / `subscribe.failed` and the SUBACK's latency. */

import type { DeviceConnection } from '../client/device-connection.js';
import type { MetricsRecorder } from '../metrics/recorder.js';
import type { FailureLog } from './failures.js';

/**
 * Subscribes `conn` to each filter in turn at `qos`.
 * @returns whether the broker granted every one
 */
export async function subscribeCounted(
  conn: DeviceConnection,
  filters: readonly string[],
  qos: 0 | 1 | 2,
  deviceId: string,
  metrics: { recorder: MetricsRecorder; failures: FailureLog },
): Promise<boolean> {
  const { recorder, failures } = metrics;
  for (const filter of filters) {
    const sentNs = process.hrtime.bigint();
    const granted = await new Promise<boolean>((resolve) => {
      conn.subscribe(filter, qos, (err) => {
        if (err) {
          recorder.count('subscribe.failed');
          failures.add('other', `subscribe: ${err.message}`, deviceId);
          return resolve(false);
        }
        recorder.count('subscribe.ok');
        recorder.record('suback', Number(process.hrtime.bigint() - sentNs) / 1000);
        resolve(true);
      });
    });
    if (!granted) return false;
  }
  return true;
}
