/**
 * The verdict on message accounting: which of the counted anomalies are errors of the broker
 * and which are expected. At QoS 1 a duplicate is allowed (at least once); at QoS 2 it breaks
 * exactly once. A message the broker acknowledged (QoS 1/2) and never delivered is an error
 * when the broker was healthy (no connection dropped unasked); at QoS 0 loss is allowed.
 */

import type { Counters } from './types.js';

/** Errors and expected anomalies, one sentence each. */
export interface AccountingVerdict {
  /** Broken delivery guarantees on a healthy broker. */
  errors: string[];
  /** Anomalies that the QoS or the run's own drops allow. */
  notes: string[];
}

/**
 * Judges the `messages.qos<q>.<kind>` counters of a run (or a phase).
 * @returns null when no message was published
 */
export function accountingVerdict(c: Counters): AccountingVerdict | null {
  const n = (key: string) => c[key] ?? 0;
  if (n('messages.published') + n('commands.published') === 0) return null;
  const healthy = n('connection.lost') === 0;
  const errors: string[] = [];
  const notes: string[] = [];
  for (const family of ['messages', 'commands'] as const) {
    for (const qos of [0, 1, 2]) {
      const k = (kind: string) => n(`${family}.qos${qos}.${kind}`);
      judgeQos(family, qos, k, healthy, { errors, notes });
    }
  }
  return { errors, notes };
}

/** The verdict on one family's counters at one QoS. */
function judgeQos(
  family: 'messages' | 'commands',
  qos: number,
  k: (kind: string) => number,
  healthy: boolean,
  out: AccountingVerdict,
): void {
  const { errors, notes } = out;
  // A command's QoS is the lower of its two legs; "message(s)" reads as "command(s)" there.
  const what = family === 'messages' ? 'message(s)' : 'command round trip(s)';
  const lost = k('lost');
  const dup = k('duplicated');
  if (lost > 0) {
    const text = `${lost} QoS ${qos} ${what} completed by the broker never arrived`;
    if (qos === 0) notes.push(`${text} (QoS 0 may lose messages)`);
    else if (healthy) errors.push(`${text}, on a broker that dropped no connection`);
    else notes.push(`${text}, while the broker dropped connections (connection.lost)`);
  }
  if (dup > 0 && qos === 2) errors.push(`${dup} QoS 2 ${what} arrived twice: exactly once broken`);
  if (dup > 0 && qos !== 2) notes.push(`${dup} QoS ${qos} duplicate(s) (allowed at QoS ${qos})`);
  if (k('outOfOrder') > 0) notes.push(`${k('outOfOrder')} QoS ${qos} ${what} out of order`);
  if (k('late') > 0) notes.push(`${k('late')} QoS ${qos} ${what} late`);
  if (k('interrupted') > 0) {
    notes.push(
      `${k('interrupted')} QoS ${qos} ${what} in flight when their subscriber's ` +
        'connection ended (not counted as lost)',
    );
  }
}
