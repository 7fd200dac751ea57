/** The keepalive wheel on a manual clock: one tick per period, in order, until a target ends. */

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { KeepaliveWheel } from '../../src/client/keepalive-wheel.js';

function target(name: string, log: string[], ticks = Infinity) {
  let left = ticks;
  return {
    keepaliveTick: () => {
      log.push(name);
      return --left > 0;
    },
  };
}

test('each target ticks once per period, in order, until it says it has ended', () => {
  let now = 0;
  // A granularity longer than the test: only the manual advance runs ticks.
  const wheel = new KeepaliveWheel(() => now, 3_600_000);
  const log: string[] = [];
  wheel.add(target('a', log), 500);
  now = 100;
  wheel.add(target('b', log, 2), 500);
  wheel.add(target('slow', log), 2000);
  assert.equal(wheel.count, 3);

  wheel.advance(499);
  assert.deepEqual(log, []);
  wheel.advance(500);
  assert.deepEqual(log, ['a']);
  wheel.advance(650);
  assert.deepEqual(log, ['a', 'b']);
  // Both ticked at 500 and 650: next at 1000 and 1150.
  wheel.advance(1000);
  assert.deepEqual(log, ['a', 'b', 'a']);
  wheel.advance(1200);
  assert.deepEqual(log, ['a', 'b', 'a', 'b'], 'b ticked twice and left');
  assert.equal(wheel.count, 2);
  wheel.advance(2100);
  assert.deepEqual(log.slice(4), ['a', 'slow']);
});

test('a late wheel runs each due target once, and the next tick is a period later', () => {
  const now = 0;
  const wheel = new KeepaliveWheel(() => now, 3_600_000);
  const log: string[] = [];
  for (const name of ['x', 'y', 'z']) wheel.add(target(name, log), 100);
  wheel.advance(1000); // ten periods late
  assert.deepEqual(log, ['x', 'y', 'z']);
  wheel.advance(1099);
  assert.equal(log.length, 3);
  wheel.advance(1100);
  assert.deepEqual(log.slice(3), ['x', 'y', 'z']);
});

test('thousands of connections: every one ticks, ended ones leave, the queue is compacted', () => {
  const now = 0;
  const wheel = new KeepaliveWheel(() => now, 3_600_000);
  const ticks = new Map<number, number>();
  for (let i = 0; i < 5000; i++) {
    const ends = i % 2 === 0 ? 3 : Infinity;
    let left = ends;
    wheel.add(
      {
        keepaliveTick: () => {
          ticks.set(i, (ticks.get(i) ?? 0) + 1);
          return --left > 0;
        },
      },
      1000,
    );
  }
  for (let t = 1; t <= 5; t++) wheel.advance(t * 1000);
  assert.equal(wheel.count, 2500);
  for (let i = 0; i < 5000; i++) assert.equal(ticks.get(i), i % 2 === 0 ? 3 : 5, `device ${i}`);
});

test('the wheel runs on its own timer', async () => {
  const wheel = new KeepaliveWheel(undefined, 10);
  let ticked = 0;
  wheel.add({ keepaliveTick: () => ++ticked < 3 }, 20);
  const deadline = Date.now() + 5000;
  while (ticked < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(ticked, 3);
  assert.equal(wheel.count, 0);
});
