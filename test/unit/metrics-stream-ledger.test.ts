import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { accountingVerdict } from '../../src/metrics/accounting.js';
import { StreamLedger } from '../../src/metrics/stream-ledger.js';

function send(ledger: StreamLedger, ...seqs: number[]): void {
  for (const s of seqs) {
    ledger.sent(s);
    ledger.completed(s);
  }
}

describe('StreamLedger', () => {
  test('in-order arrivals are first arrivals, nothing else', () => {
    const l = new StreamLedger(1000);
    send(l, 0, 1, 2);
    for (const s of [0, 1, 2]) {
      assert.deepEqual(l.received(s, 5), {
        ...{ first: true, duplicate: false, outOfOrder: false, late: false, unknown: false },
      });
    }
    assert.equal(l.pendingCount, 0);
    assert.equal(l.close(), 0);
  });

  test('duplicates, out of order and late arrivals are told apart', () => {
    const l = new StreamLedger(100);
    send(l, 0, 1, 2, 3);
    assert.equal(l.received(2, 1).outOfOrder, false);
    const early = l.received(1, 1);
    assert.deepEqual([early.first, early.outOfOrder], [true, true]);
    const again = l.received(2, 1);
    assert.deepEqual([again.first, again.duplicate], [false, true]);
    assert.equal(l.received(3, 150).late, true);
    assert.equal(l.received(99, 1).unknown, true);
    // Seq 0 never came: lost when the run has drained.
    assert.equal(l.close(), 1);
    assert.equal(l.pendingCount, 0);
  });

  test('an interrupted stream owes only what the broker completed, failed sends nothing', () => {
    const l = new StreamLedger(1000);
    send(l, 0, 1);
    l.sent(2); // never acknowledged
    l.sent(3);
    assert.equal(l.failed(3), true);
    assert.equal(l.failed(3), false);
    assert.equal(l.pendingCount, 3);
    assert.equal(l.interrupt(), 2);
    assert.equal(l.close(), 0);
  });

  test('duplicates of numbers long gone from the window are still duplicates', () => {
    const l = new StreamLedger(1000);
    for (let s = 0; s < 20_000; s++) {
      send(l, s);
      assert.equal(l.received(s, 1).first, true);
    }
    assert.equal(l.received(5, 1).duplicate, true);
    assert.equal(l.received(19_999, 1).duplicate, true);
  });
});

describe('accountingVerdict', () => {
  test('a QoS 2 duplicate and a QoS 1 loss on a healthy broker are errors', () => {
    const v = accountingVerdict({
      'messages.published': 100,
      'messages.qos2.duplicated': 1,
      'messages.qos1.lost': 2,
      'messages.qos1.duplicated': 3,
      'messages.qos0.lost': 4,
    });
    assert.deepEqual(v?.errors, [
      '2 QoS 1 message(s) completed by the broker never arrived, ' +
        'on a broker that dropped no connection',
      '1 QoS 2 message(s) arrived twice: exactly once broken',
    ]);
    assert.equal(v?.notes.length, 2);
    assert.match(v?.notes.join('\n') ?? '', /3 QoS 1 duplicate\(s\) \(allowed at QoS 1\)/);
    assert.match(v?.notes.join('\n') ?? '', /4 QoS 0 .* \(QoS 0 may lose messages\)/);
  });

  test('loss while the broker dropped connections is a note; no traffic, no verdict', () => {
    const v = accountingVerdict({
      ...{ 'messages.published': 10, 'messages.qos1.lost': 1, 'connection.lost': 5 },
    });
    assert.deepEqual(v?.errors, []);
    assert.match(v?.notes[0] ?? '', /while the broker dropped connections/);
    assert.equal(accountingVerdict({ 'connect.ok': 5 }), null);
  });
});
