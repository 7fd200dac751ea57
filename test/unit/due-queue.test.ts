import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DueQueue } from '../../src/worker/due-queue.js';

describe('DueQueue', () => {
  test('hands out items in time order, equal instants in insertion order, only when due', () => {
    const q = new DueQueue<string>();
    const times = [50, 10, 30, 10, 70, 0, 30];
    times.forEach((t, i) => q.push(t, `${t}:${i}`));
    assert.equal(q.peekMs(), 0);
    assert.equal(q.popDue(-1), undefined);
    const out: string[] = [];
    for (let item = q.popDue(40); item !== undefined; item = q.popDue(40)) out.push(item.item);
    assert.deepEqual(out, ['0:5', '10:1', '10:3', '30:2', '30:6']);
    assert.equal(q.size, 2);
    q.removeWhere((s) => s.startsWith('50'));
    assert.deepEqual(q.popDue(100)?.item, '70:4');
    assert.equal(q.popDue(100), undefined);
    assert.equal(q.peekMs(), Infinity);
  });

  test('a thousand random instants come out sorted', () => {
    const q = new DueQueue<number>();
    const values = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1009);
    for (const v of values) q.push(v, v);
    const out: number[] = [];
    for (let e = q.popDue(Infinity); e !== undefined; e = q.popDue(Infinity)) out.push(e.item);
    assert.deepEqual(
      out,
      [...values].sort((a, b) => a - b),
    );
  });
});
