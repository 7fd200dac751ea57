import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { measureClockOffset, parseClockServer } from '../../src/coordinator/clock-offset.js';
import { FleetbenchError } from '../../src/errors.js';
import { startSntpServer } from '../helpers/sntp-server.js';

describe('clock offset (SNTP)', () => {
  test('measures a server clock 250 ms ahead to within half the round trip', async () => {
    const server = await startSntpServer(250);
    try {
      const clock = await measureClockOffset(server.address, { samples: 3 });
      assert.equal(clock.server, server.address);
      assert.equal(clock.samples, 3);
      assert.equal(server.answered(), 3);
      assert.ok(clock.roundTripMs >= 0);
      assert.ok(
        Math.abs(clock.offsetMs - 250) <= clock.roundTripMs / 2 + 1,
        `offset ${clock.offsetMs} ms, round trip ${clock.roundTripMs} ms`,
      );
    } finally {
      await server.close();
    }
  });

  test('a kiss-o’-death or no answer at all is an error naming the server', async () => {
    const kiss = await startSntpServer(0, 0);
    try {
      await assert.rejects(
        measureClockOffset(kiss.address, { samples: 2, timeoutMs: 200 }),
        (e: unknown) =>
          e instanceof FleetbenchError &&
          e.code === 'E_TARGET' &&
          e.message.includes(`${kiss.address} did not answer`),
      );
    } finally {
      await kiss.close();
    }
  });

  test('host[:port] with port 123 by default; a bad value is a usage error', () => {
    assert.deepEqual(parseClockServer('time.example'), { host: 'time.example', port: 123 });
    assert.deepEqual(parseClockServer('10.0.0.5:1123'), { host: '10.0.0.5', port: 1123 });
    assert.deepEqual(parseClockServer('[::1]:124'), { host: '::1', port: 124 });
    assert.throws(
      () => parseClockServer('host:99999'),
      (e: unknown) => e instanceof FleetbenchError && e.code === 'E_USAGE',
    );
  });
});
