import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeDir } from '../../src/make-dir.js';

describe('makeDir', () => {
  let dir: string;
  before(async () => (dir = await mkdtemp(path.join(os.tmpdir(), 'fleetbench-mkdir-'))));
  after(async () => rm(dir, { recursive: true, force: true }));

  test('creates missing parents, and accepts an existing directory', async () => {
    const deep = path.join(dir, 'a', 'b', 'c');
    await makeDir(deep);
    await makeDir(deep);
    assert.ok((await stat(deep)).isDirectory());
  });

  test('a file in the way is ENOTDIR', async () => {
    await writeFile(path.join(dir, 'file'), '');
    await assert.rejects(makeDir(path.join(dir, 'file', 'sub')), { code: 'ENOTDIR' });
    await assert.rejects(makeDir(path.join(dir, 'file')), { code: 'ENOTDIR' });
  });

  test(
    'a path under /proc ends with ENOENT (node:fs recursive mkdir spins on it)',
    { skip: process.platform !== 'linux' && 'needs /proc', timeout: 10_000 },
    async () => {
      await assert.rejects(makeDir('/proc/fleetbench-nope/reports'), { code: 'ENOENT' });
    },
  );
});
