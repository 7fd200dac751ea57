import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isInvalidName, lookupHost } from '../../src/client/lookup.js';

function lookup(
  hostname: string,
): Promise<{ err: NodeJS.ErrnoException | null; address: unknown }> {
  return new Promise((resolve) => {
    lookupHost(hostname, { family: 4 }, (err, address) => resolve({ err, address }));
  });
}

test('names under .invalid fail at once with ENOTFOUND (RFC 6761), in any case', async () => {
  for (const name of ['broker.invalid', 'INVALID', 'a.b.Invalid.']) {
    const { err } = await lookup(name);
    assert.equal(err?.code, 'ENOTFOUND', name);
    assert.match(err?.message ?? '', new RegExp(`ENOTFOUND ${name.replace('.', '\\.')}`));
  }
});

test('other names go to the system resolver (localhost from the hosts file)', async () => {
  const { err, address } = await lookup('localhost');
  assert.equal(err, null);
  assert.equal(address, '127.0.0.1');
});

test('only the invalid domain itself and names under it are special', () => {
  for (const name of ['invalid', 'broker.invalid', 'a.b.INVALID.']) assert.ok(isInvalidName(name));
  for (const name of ['invalid.localhost', 'notinvalid', 'localhost', '127.0.0.1']) {
    assert.ok(!isInvalidName(name), name);
  }
});
