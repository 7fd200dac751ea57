/**
 * A full disk, for real: a 64 KiB tmpfs as the report directory. Full before the run, the run
 * is refused before any device connects; filled during the run, the summary still reaches
 * stdout, the error names the path and the fix, and the report goes to the temp directory.
 * Needs root (mount); skipped with the reason otherwise.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, open, readdir, rm, statfs } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { onlyReport, runCliWith, startCli, useCliWorkspace } from '../helpers/cli.js';

const ws = useCliWorkspace('output');
let mnt = '';
let mounted = false;
let mountError = '';

before(async () => {
  mnt = await mkdtemp(path.join(os.tmpdir(), 'fleetbench-tmpfs-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]);
  mounted = r.status === 0;
  mountError = mounted ? '' : `cannot mount a tmpfs here: ${r.stderr.toString().trim()}`;
});
after(async () => {
  if (mounted) spawnSync('umount', [mnt]);
  await rm(mnt, { recursive: true, force: true });
});

/** Writes `name` until the file system is full (ENOSPC); bounded by the 64 KiB size. */
async function fill(dir: string, name: string): Promise<void> {
  const handle = await open(path.join(dir, name), 'w');
  try {
    const chunk = Buffer.alloc(4096, 1);
    for (let i = 0; i < 64; i++) await handle.write(chunk);
    assert.fail('the tmpfs did not fill');
  } catch (err) {
    assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
  } finally {
    await handle.close();
  }
  assert.equal((await statfs(dir)).bavail, 0);
}

const SHORT_RUN = {
  name: 'diskfull',
  devices: 40,
  workers: 2,
  connect: { ratePerSec: 200 },
  traffic: { qos: 1, intervalMs: 250, payloadBytes: 32 },
  durationSec: 4,
  drainMs: 1000,
};

describe('the report directory on a full disk', () => {
  test('full before the run: refused before any device connects, exit 4', async (t) => {
    if (!mounted) return t.skip(mountError);
    const out = path.join(mnt, 'before');
    await mkdir(out);
    await fill(mnt, 'before.filler');
    try {
      const { args } = await ws.runArgs(SHORT_RUN, 'before', out);
      const exit = await runCliWith(args);

      assert.equal(exit.code, 4, exit.stderr);
      assert.match(
        exit.stderr,
        new RegExp(`cannot write reports to ${out}: disk full \\(ENOSPC\\)`),
      );
      assert.match(exit.stderr, /hint: free some space or choose another output directory/);
      assert.doesNotMatch(exit.stderr, /broker listening|connected/);
      assert.equal(exit.stdout, '');
      assert.deepEqual(await readdir(out), []);
    } finally {
      await rm(path.join(mnt, 'before.filler'));
    }
  });

  test('filled mid-run: summary on stdout, clear error, report kept elsewhere', async (t) => {
    if (!mounted) return t.skip(mountError);
    const out = path.join(mnt, 'during');
    const fallbackTmp = path.join(ws.dir, 'tmp');
    await mkdir(fallbackTmp);
    const { args } = await ws.runArgs(SHORT_RUN, 'during', out);
    const cli = startCli(args, { env: { TMPDIR: fallbackTmp } });
    // The directory was checked writable before the run; the disk fills while it runs.
    await cli.waitForStderr(/steady\s+connected 40\/40/);
    await fill(mnt, 'during.filler');
    const exit = await cli.exited(60_000);

    assert.equal(exit.code, 4, exit.stderr);
    assert.match(exit.stdout, /fleetbench diskfull .* 40 devices on 2 workers/);
    assert.match(exit.stdout, /connected +│ +40/);
    assert.match(exit.stderr, new RegExp(`cannot write report file ${out}/diskfull-.*\\.json`));
    assert.match(exit.stderr, /disk full \(ENOSPC\)\nhint: free some space/);
    const fallback = path.join(fallbackTmp, 'fleetbench');
    assert.match(exit.stderr, new RegExp(`the report was written to ${fallback}/diskfull-`));
    // Nothing half-written is left behind in the full directory.
    assert.deepEqual(await readdir(out), []);
    const report = await onlyReport(fallback);
    assert.equal(report.partial, null);
    assert.equal(report.metrics.counters['connect.ok'], 40);
  });
});
