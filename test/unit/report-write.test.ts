import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { FleetbenchError } from '../../src/errors.js';
import { checkWritable, defaultReportBaseName, writeReport } from '../../src/report/write.js';
import { sampleReport } from './report-fixture.js';

const NOBODY = 65534;

/** What checkWritable threw, as plain data (it may run in another process). */
interface CheckResult {
  code?: string;
  message?: string;
}

/**
 * Runs checkWritable as an unprivileged user: root ignores permission bits, so a read-only
 * directory is only read-only to someone else.
 */
function checkWritableAsNobody(dir: string): CheckResult {
  const module = new URL('../../src/report/write.js', import.meta.url);
  const script =
    `import(${JSON.stringify(module.href)}).then((m) => m.checkWritable(${JSON.stringify(dir)}))` +
    `.then(() => console.log('{}'), (e) => console.log(JSON.stringify({ code: e.code, ` +
    `message: e.message })));`;
  const child = spawnSync(process.execPath, ['-e', script], { uid: NOBODY, gid: NOBODY });
  assert.equal(child.status, 0, child.stderr.toString());
  return JSON.parse(child.stdout.toString()) as CheckResult;
}

describe('writeReport', () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fleetbench-write-'));
    await chmod(dir, 0o755);
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('never overwrites: two writes under one name make two files', async () => {
    const out = join(dir, 'twice');
    const first = sampleReport({ warnings: ['first'] });
    const second = sampleReport({ warnings: ['second'] });

    const a = await writeReport(out, first, { baseName: 'run' });
    const b = await writeReport(out, second, { baseName: 'run' });
    const c = await writeReport(out, second, { baseName: 'run.json' });

    assert.deepEqual(
      [a, b, c],
      ['run.json', 'run-2.json', 'run-3.json'].map((f) => join(out, f)),
    );
    assert.deepEqual(JSON.parse(await readFile(a, 'utf8')), first);
    assert.deepEqual(JSON.parse(await readFile(b, 'utf8')), second);
    assert.deepEqual((await readdir(out)).sort(), ['run-2.json', 'run-3.json', 'run.json']);
  });

  it('leaves a file someone else wrote untouched', async () => {
    const out = join(dir, 'foreign');
    await mkdir(out);
    await writeFile(join(out, 'run.json'), 'not ours\n');

    const path = await writeReport(out, sampleReport(), { baseName: 'run' });
    assert.equal(path, join(out, 'run-2.json'));
    assert.equal(await readFile(join(out, 'run.json'), 'utf8'), 'not ours\n');
  });

  it('names reports <scenario>-<YYYYMMDD-HHMMSS> by default, creating the dir', async () => {
    const doc = sampleReport();
    assert.equal(defaultReportBaseName(doc), 'quickstart-20261203-213105');

    const out = join(dir, 'a', 'b');
    const path = await writeReport(out, doc);
    assert.equal(path, join(out, 'quickstart-20261203-213105.json'));
    assert.ok((await readFile(path, 'utf8')).endsWith('}\n'));
  });

  it('refuses a base name with a directory in it', async () => {
    await assert.rejects(writeReport(dir, sampleReport(), { baseName: '../escape' }), {
      code: 'E_OUTPUT',
    });
  });

  it('fails with E_OUTPUT naming the path when a file is in the way', async () => {
    const blocker = join(dir, 'blocker');
    await writeFile(blocker, '');
    const target = join(blocker, 'reports');

    const err: unknown = await writeReport(target, sampleReport()).catch((e: unknown) => e);
    assert.ok(err instanceof FleetbenchError);
    assert.equal(err.code, 'E_OUTPUT');
    assert.ok(err.message.includes(target), err.message);
    assert.ok(err.hint !== undefined && err.hint.length > 0);
  });
});

describe('checkWritable', () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fleetbench-check-'));
    await chmod(dir, 0o755);
  });

  after(async () => {
    await chmod(join(dir, 'readonly'), 0o755).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts a writable directory, creating it and leaving nothing behind', async () => {
    const out = join(dir, 'new', 'reports');
    await checkWritable(out);
    assert.deepEqual(await readdir(out), []);
  });

  it('gives E_OUTPUT naming a read-only directory', async () => {
    const readonly = join(dir, 'readonly');
    await mkdir(readonly);
    await chmod(readonly, 0o555);

    const result: CheckResult =
      process.getuid?.() === 0
        ? checkWritableAsNobody(readonly)
        : await checkWritable(readonly).then(
            () => ({}),
            (e: FleetbenchError) => ({ code: e.code, message: e.message }),
          );

    assert.equal(result.code, 'E_OUTPUT');
    assert.match(result.message ?? '', /permission denied \(EACCES\)/);
    assert.ok(result.message?.includes(readonly), result.message);
    assert.deepEqual(await readdir(readonly), []);
  });
});
