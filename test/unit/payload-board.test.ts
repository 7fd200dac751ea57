/** Message payloads (binary, or JSON around the header) and the run's shared board. */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RunBoard } from '../../src/worker/board.js';
import { headerOf, jsonValues, PayloadFormat } from '../../src/worker/payload.js';

function header(format: PayloadFormat, bytes: number): Buffer {
  const h = format.header(bytes);
  h.writeUInt32BE(7, 0);
  h.writeUInt32BE(42, 4);
  h.writeBigUInt64BE(123456789n, 8);
  return h;
}

describe('payloads', () => {
  test('binary: the header padded to the size, read back as it is', () => {
    const f = new PayloadFormat(64, null);
    const p = f.finish(header(f, 16), () => assert.fail('no values needed'));
    assert.equal(p.length, 64);
    assert.equal(headerOf(p).readUInt32BE(4), 42);
  });

  test('JSON: a valid object with the header first, the template rendered after it', () => {
    const f = new PayloadFormat(64, '{"device":"{deviceId}","seq":{seq}}');
    assert.ok(f.templated);
    const values = jsonValues({ deviceId: 'dev "1"', seq: 7 });
    const p = f.finish(header(f, 20), () => values);
    const parsed = JSON.parse(p.toString()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(parsed), ['fb', 'device', 'seq']);
    assert.equal(parsed.device, 'dev "1"');
    assert.equal(parsed.seq, 7);
    const h = headerOf(p);
    assert.equal(h.length, 20);
    assert.equal(h.readUInt32BE(0), 7);
    assert.equal(h.readBigUInt64BE(8), 123456789n);
  });

  test('an empty JSON object gets only the header field', () => {
    const f = new PayloadFormat(64, ' {} ');
    const p = f.finish(header(f, 16), () => ({}));
    assert.deepEqual(Object.keys(JSON.parse(p.toString()) as object), ['fb']);
    assert.equal(headerOf(p).readUInt32BE(4), 42);
  });
});

describe('the run board', () => {
  test('a receiver is online once subscribed; each end is a new epoch', () => {
    const board = new RunBoard(RunBoard.create(4, true));
    const first = board.read(2);
    assert.equal(RunBoard.isOnline(first), false);
    board.online(2);
    const subscribed = board.read(2);
    assert.equal(RunBoard.isOnline(subscribed), true);
    board.ended(2);
    board.online(2);
    const again = board.read(2);
    assert.equal(RunBoard.isOnline(again), true);
    assert.notEqual(again, subscribed, 'a reconnect is told apart from the same connection');
    board.ended(1);
    board.ended(1);
    assert.equal(board.read(1), 4);
  });

  test('workers that drained are counted; an unused board counts nothing', () => {
    const board = new RunBoard(RunBoard.create(2, true));
    board.drained();
    board.drained();
    assert.equal(board.drainedCount, 2);
    const unused = new RunBoard(RunBoard.create(2, false));
    assert.equal(unused.used, false);
    unused.drained();
    assert.equal(unused.drainedCount, 0);
    assert.equal(unused.read(1), 0);
  });
});
