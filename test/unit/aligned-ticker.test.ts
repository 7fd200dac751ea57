import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { startAlignedTicker } from '../../src/worker/aligned-ticker.js';

describe('startAlignedTicker', () => {
  it('ticks once per grid cell, never before the grid instant', async () => {
    const intervalNs = 40_000_000n;
    const origin = process.hrtime.bigint() + 20_000_000n;
    const ticks: bigint[] = [];
    await new Promise<void>((resolve) => {
      const ticker = startAlignedTicker(origin, 40, () => {
        ticks.push(process.hrtime.bigint() - origin);
        if (ticks.length === 6) {
          ticker.stop();
          resolve();
        }
      });
    });
    // A tick in cell k fired at or after grid instant k; an early one would sit in cell k - 1.
    const cells = ticks.map((t) => t / intervalNs);
    assert.ok((cells[0] ?? 0n) >= 1n, `a tick before the first grid instant: ${ticks[0]}`);
    cells.forEach((c, i) => {
      if (i > 0) assert.ok(c > (cells[i - 1] ?? 0n), `two ticks in one cell: ${cells.join(',')}`);
    });
  });

  it('closes the first interval at once when started past the first grid instant', async () => {
    const origin = process.hrtime.bigint() - 2_500_000_000n;
    const first = await new Promise<bigint>((resolve) => {
      const ticker = startAlignedTicker(origin, 1000, () => {
        ticker.stop();
        resolve(process.hrtime.bigint() - origin);
      });
    });
    assert.ok(first < 2_900_000_000n, `waited for the next grid instant: ${first}`);
  });
});
