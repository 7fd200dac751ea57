/** The per-thread share of local ports for source-address connections (local-ports.ts). */

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ephemeralPortRange, LocalPorts } from '../../src/client/local-ports.js';

const RANGE = { low: 40000, high: 40009 };

test('each share hands out its own ports in turn, per address', () => {
  const even = new LocalPorts(RANGE, 2, 0);
  const odd = new LocalPorts(RANGE, 2, 1);
  assert.deepEqual(
    Array.from({ length: 5 }, () => even.take('127.0.0.2')),
    [40000, 40002, 40004, 40006, 40008],
  );
  assert.deepEqual(
    Array.from({ length: 5 }, () => odd.take('127.0.0.2')),
    [40001, 40003, 40005, 40007, 40009],
  );
  assert.equal(even.take('127.0.0.2'), undefined, 'a full share leaves the choice to the kernel');
  assert.equal(even.take('127.0.0.3'), 40000, 'another address has its own ports');
});

test('a released port is handed out again after the others, never while held', () => {
  const ports = new LocalPorts(RANGE, 3, 2);
  const taken = [ports.take('a'), ports.take('a'), ports.take('a')];
  assert.deepEqual(taken, [40002, 40005, 40008]);
  ports.release('a', 40005);
  ports.release('a', 40001); // not of this share: ignored
  ports.release('b', 40002); // never taken there: ignored
  assert.equal(ports.take('a'), 40005);
  assert.equal(ports.take('a'), undefined);
  ports.release('a', 40002);
  ports.release('a', 40008);
  assert.equal(ports.take('a'), 40008, 'in turn from where the last one was taken');
  assert.equal(ports.take('a'), 40002);
});

test("the kernel's ephemeral range is read, or Linux's default", () => {
  const { low, high } = ephemeralPortRange();
  assert.ok(Number.isInteger(low) && Number.isInteger(high) && low > 0 && high >= low);
  assert.ok(high < 65536);
});
