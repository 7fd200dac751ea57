import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PublishWheel } from '../../src/worker/publish-wheel.js';

describe('PublishWheel', () => {
  test('each member gets one turn per interval, first one interval after it joined', () => {
    const wheel = new PublishWheel<string>(100, 0, 10);
    const turns: [number, string][] = [];
    wheel.add('a', 0);
    wheel.add('b', 35);
    for (let t = 0; t <= 400; t += 5) wheel.advance(t, (m) => turns.push([t, m]));
    const a = turns.filter(([, m]) => m === 'a').map(([t]) => t);
    const b = turns.filter(([, m]) => m === 'b').map(([t]) => t);
    assert.deepEqual(a, [100, 200, 300, 400]);
    assert.deepEqual(b, [130, 230, 330]);
  });

  test('a late tick catches up without losing turns within one interval', () => {
    const wheel = new PublishWheel<number>(100, 0, 10);
    for (let i = 0; i < 10; i++) wheel.add(i, i * 10);
    wheel.advance(95, () => undefined);
    let n = 0;
    wheel.advance(190, () => n++);
    assert.equal(n, 10);
    assert.equal(wheel.skippedSlots, 0);
  });

  test('falling more than an interval behind counts skipped slots', () => {
    const wheel = new PublishWheel<number>(100, 0, 10);
    wheel.add(1, 0);
    wheel.advance(0, () => undefined);
    let n = 0;
    wheel.advance(350, () => n++);
    assert.equal(n, 1);
    assert.equal(wheel.skippedSlots, 25);
  });

  test('removed members get no more turns', () => {
    const wheel = new PublishWheel<string>(50, 0, 10);
    wheel.add('x', 0);
    wheel.remove('x');
    let n = 0;
    wheel.advance(500, () => n++);
    assert.equal(n, 0);
    assert.equal(wheel.size, 0);
  });
});

describe('PublishWheel.resume', () => {
  test('turns missed while paused are skipped, not caught up', () => {
    const wheel = new PublishWheel<string>(100, 0, 10);
    wheel.add('a', 0);
    wheel.advance(150, () => undefined);
    wheel.resume(420);
    const turns: number[] = [];
    for (let t = 425; t <= 700; t += 5) wheel.advance(t, () => turns.push(t));
    assert.deepEqual(turns, [500, 600, 700]);
  });
});
