import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OpenSchedule } from '../../src/worker/open-schedule.js';

describe('OpenSchedule', () => {
  test('hands out instants at the rate, interleaved by offset, nothing owed before resume', () => {
    const s = new OpenSchedule(10, 3, 1000);
    const sent: number[] = [];
    s.advance(
      100,
      (t) => sent.push(t),
      () => assert.fail('nothing to skip'),
    );
    assert.equal(sent.length, 0, 'not started');
    s.resume(20);
    s.advance(
      55,
      (t) => sent.push(t),
      () => assert.fail('nothing to skip'),
    );
    assert.deepEqual(sent, [23, 33, 43, 53]);
  });

  test('a late advance sends every due instant with its own schedule', () => {
    const s = new OpenSchedule(10, 0, 1000);
    s.resume(0);
    const sent: number[] = [];
    s.advance(
      0,
      (t) => sent.push(t),
      () => undefined,
    );
    s.advance(
      500,
      (t) => sent.push(t),
      () => undefined,
    ); // a 500 ms stall
    assert.equal(sent.length, 51);
    assert.deepEqual(sent.slice(0, 3), [0, 10, 20]);
    assert.equal(sent.at(-1), 500);
  });

  test('instants further behind than maxLagMs are skipped in one count', () => {
    const s = new OpenSchedule(10, 0, 100);
    s.resume(0);
    const sent: number[] = [];
    let skipped = 0;
    s.advance(
      1000,
      (t) => sent.push(t),
      (n) => (skipped += n),
    );
    assert.equal(skipped + sent.length, 101, 'every instant is either sent or skipped');
    assert.equal(sent[0], 900);
    s.pause();
    s.advance(
      5000,
      () => assert.fail('paused'),
      () => assert.fail('paused'),
    );
  });
});
