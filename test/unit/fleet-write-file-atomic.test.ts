import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { writeFileAtomic } from '../../src/fleet/write-file-atomic.js';

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'fleetbench-atomic-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('writes the content with the mode and leaves no temporary file', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'a.key');

    await writeFileAtomic(path, 'secret', { mode: 0o600 });

    assert.equal(await readFile(path, 'utf8'), 'secret');
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(dir), ['a.key']);
  });
});

test('without overwrite an existing file fails with EEXIST and is kept', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'a.crt');
    await writeFile(path, 'first');

    await assert.rejects(writeFileAtomic(path, 'second'), { code: 'EEXIST' });

    assert.equal(await readFile(path, 'utf8'), 'first');
    assert.deepEqual(await readdir(dir), ['a.crt']);
  });
});

test('with overwrite an existing file is replaced, mode included', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'a.key');
    await writeFile(path, 'first', { mode: 0o644 });

    await writeFileAtomic(path, 'second', { mode: 0o600, overwrite: true });

    assert.equal(await readFile(path, 'utf8'), 'second');
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(dir), ['a.key']);
  });
});
