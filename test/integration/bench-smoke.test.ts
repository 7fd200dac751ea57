/**
 * The benchmark harness at toy size: it starts its own Mosquitto, runs every probe for every
 * client kind, prints the figures and writes them as JSON. Figures are not judged here (that
 * is the bench's job); the test checks that each one was measured and is plausible.
 */

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import type { BenchDocument } from '../../bench/document.js';
import { haveMosquitto } from '../helpers/mosquitto.js';

const BENCH = new URL('../../bench/main.js', import.meta.url);
const TINY = [
  ...['--rounds', '1', '--connections', '20', '--roundtrips', '20'],
  ...['--publishers', '2', '--subscribers', '2', '--publish-rate', '100', '--fanout-sec', '1'],
];

test(
  'npm run bench at toy size measures every figure for every client kind',
  { skip: (await haveMosquitto()) ? false : 'mosquitto is not installed (.ci/run installs it)' },
  async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'fleetbench-bench-smoke-'));
    try {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [BENCH.pathname, ...TINY, '--json', '--out', out],
        { timeout: 90_000 },
      );
      const doc = JSON.parse(stdout) as BenchDocument;
      assert.equal(doc.kind, 'fleetbench-bench');
      const files = await readdir(out);
      assert.equal(files.length, 1);
      assert.match(files[0] ?? '', /^bench-\d{8}-\d{6}\.json$/);
      assert.deepEqual(JSON.parse(await readFile(path.join(out, files[0] ?? ''), 'utf8')), doc);

      const fig = (id: string) => {
        const f = doc.figures.find((x) => x.id === id);
        assert.ok(f, `figure ${id}`);
        return f;
      };
      for (const id of ['connect.clientCpuMs', 'held.rssKB', 'fanout.receivedPerCoreSec']) {
        for (const kind of ['bare-tls', 'mqttjs', 'fleetbench'] as const) {
          const v = fig(id).values[kind];
          assert.ok(v !== undefined && v > 0, `${id} ${kind} = ${v}`);
        }
        assert.ok((fig(id).ratio ?? 0) > 0, `${id} ratio`);
      }
      // Every device connected, nothing was lost, and Mosquitto's own CPU was read.
      for (const rounds of Object.values(doc.results.connect)) {
        assert.equal(rounds[0]?.result.connected, 20);
      }
      assert.deepEqual(fig('fanout.lost').values, { 'bare-tls': 0, mqttjs: 0, fleetbench: 0 });
      assert.ok((fig('connect.brokerCpuMs').values.fleetbench ?? 0) > 0);
      assert.ok((fig('roundtrip.p50Ms').values.fleetbench ?? 0) > 0);
      // Every reconnect resumed its own device's session, fleetbench's client's too.
      for (const kind of ['bare-tls', 'mqttjs', 'fleetbench'] as const) {
        assert.equal(fig('reconnect.resumedShare').values[kind], 100, kind);
      }
      assert.ok((fig('reconnect.clientCpuMs').values.fleetbench ?? 0) > 0);
      assert.ok((fig('reconnect.clientCpuMs').ratio ?? 0) > 0);
      assert.equal(typeof fig('roundtrip.addedMs').met, 'boolean');
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  },
);
