/**
 * Writing report files: complete or not at all, and never over an existing file. A reader (or a
 * crash) sees no half-written report, and a second run in the same second gets its own name.
 */

import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, link, open, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

import { FleetbenchError } from '../errors.js';
import { makeDir as makeDirectory } from '../make-dir.js';
import type { ReportDocument } from './document.js';

/** Options of {@link writeReport}. */
export interface WriteReportOptions {
  /**
   * File name without `.json`; `-2`, `-3` ... is appended when the name is taken. No path
   * separators. Default: {@link defaultReportBaseName}.
   */
  baseName?: string;
}

/** How many numbered names to try before giving up (a directory that full is a mistake). */
const MAX_NAME_ATTEMPTS = 1000;

/**
 * `<scenario>-<YYYYMMDD-HHMMSS>` from the report's start, in UTC so that shards on machines in
 * different time zones name their reports alike; a shard's report ends in `-shard<i>of<n>`,
 * so the shards of a run can share one directory (a volume every pod mounts).
 */
export function defaultReportBaseName(doc: ReportDocument): string {
  const started = new Date(doc.startedAt);
  const at = Number.isNaN(started.getTime()) ? new Date() : started;
  const stamp = at.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  // Scenario files restrict names to these characters; a scenario built in code may not.
  const name = doc.scenario.name.replace(/[^A-Za-z0-9._-]/g, '_');
  const shard = doc.run?.shard;
  const part = shard && shard.count > 1 ? `-shard${shard.index}of${shard.count}` : '';
  return `${name}-${stamp}${part}`;
}

/**
 * Writes `doc` as `<dir>/<baseName>.json` (pretty-printed, trailing newline), creating `dir` if
 * needed. The file is written and synced under a temporary name, then hard-linked to its final
 * name, which fails rather than replaces when the name is taken; the next free `-N` name is used.
 *
 * @returns the path written.
 * @throws FleetbenchError `E_OUTPUT` naming the path and the fix (disk full, permission, ...).
 */
export async function writeReport(
  dir: string,
  doc: ReportDocument,
  options: WriteReportOptions = {},
): Promise<string> {
  const baseName = checkBaseName(options.baseName ?? defaultReportBaseName(doc));
  await makeDir(dir);

  const tmp = join(dir, `.${baseName}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const finalPath = join(dir, `${baseName}.json`);
    const data = `${JSON.stringify(doc, null, 2)}\n`;
    await writeSynced(tmp, data, finalPath, 'cannot write report file');
    const path = await claimName(tmp, dir, baseName);
    await syncDir(dir);
    return path;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

/**
 * Checks, before a run starts, that reports can be written to `dir`: creates it if needed and
 * creates and removes a probe file. A probe, not `access()`, because only a real write tells
 * about read-only mounts, quotas, full disks and root's bypass of permission bits.
 *
 * @throws FleetbenchError `E_OUTPUT` naming the directory and the fix.
 */
export async function checkWritable(dir: string): Promise<void> {
  await makeDir(dir);
  const probe = join(dir, `.fleetbench-probe-${randomBytes(6).toString('hex')}`);
  try {
    await writeSynced(probe, 'probe\n', dir, 'cannot write reports to');
  } finally {
    await unlink(probe).catch(() => undefined);
  }
}

/**
 * Writes `data` to exactly `path`, complete or not at all, and never over an existing file
 * (for exports such as the HTML page, whose name the user chose).
 *
 * @throws FleetbenchError `E_OUTPUT` naming the path: it exists, or cannot be written.
 */
export async function writeNewFile(path: string, data: string): Promise<string> {
  const dir = dirname(path);
  await makeDir(dir);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeSynced(tmp, data, path, 'cannot write');
    try {
      await linkExclusive(tmp, path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new FleetbenchError('E_OUTPUT', `${path} exists; fleetbench never overwrites it`, {
          hint: 'choose another file name, or move the old file away',
        });
      }
      throw outputError(err, path, 'cannot write');
    }
    await syncDir(dir);
    return path;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

function checkBaseName(baseName: string): string {
  const name = baseName.replace(/\.json$/, '');
  if (name === '' || name === '.' || name === '..' || /[/\\\0]/.test(name)) {
    throw new FleetbenchError('E_OUTPUT', `report name "${baseName}" is not a plain file name`, {
      hint: 'give a name without directories; choose the directory with the output option',
    });
  }
  return name;
}

async function makeDir(dir: string): Promise<void> {
  try {
    await makeDirectory(dir);
  } catch (err) {
    throw outputError(err, dir, 'cannot create report directory');
  }
}

/** Creates `path` (never replacing a file) and syncs it; errors say `what` of `shownPath`. */
async function writeSynced(
  path: string,
  data: string,
  shownPath: string,
  what: string,
): Promise<void> {
  let handle;
  try {
    handle = await open(path, 'wx', 0o644);
    await handle.writeFile(data, 'utf8');
    await handle.sync();
  } catch (err) {
    throw outputError(err, shownPath, what);
  } finally {
    await handle?.close();
  }
}

/** Gives the written temporary file its final name: the first of `base`, `base-2`, ... free. */
async function claimName(tmp: string, dir: string, baseName: string): Promise<string> {
  for (let n = 1; n <= MAX_NAME_ATTEMPTS; n++) {
    const path = join(dir, n === 1 ? `${baseName}.json` : `${baseName}-${n}.json`);
    try {
      await linkExclusive(tmp, path);
      return path;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw outputError(err, path, 'cannot write report file');
    }
  }
  throw new FleetbenchError(
    'E_OUTPUT',
    `cannot name report in ${dir}: ${baseName}.json to ${baseName}-${MAX_NAME_ATTEMPTS}.json exist`,
    { hint: 'move old reports away or choose another output directory' },
  );
}

/**
 * link() fails with EEXIST when the name is taken, so a file that appears between two runs'
 * checks is never replaced. Filesystems without hard links (FAT, some network mounts) get an
 * exclusive copy instead: still never overwriting, though a reader could see it mid-copy.
 */
async function linkExclusive(tmp: string, path: string): Promise<void> {
  try {
    await link(tmp, path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') {
      throw err;
    }
    await copyFile(tmp, path, constants.COPYFILE_EXCL);
  }
}

/** Makes the new name durable; best effort, as some platforms cannot fsync a directory. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined);
  if (handle === undefined) return;
  await handle.sync().catch(() => undefined);
  await handle.close();
}

const FIXES: Record<string, [string, string]> = {
  ENOSPC: ['disk full', 'free some space or choose another output directory'],
  EDQUOT: ['disk quota exceeded', 'free some space or choose another output directory'],
  EACCES: ['permission denied', 'fix its permissions or choose another output directory'],
  EPERM: ['operation not permitted', 'fix its permissions or choose another output directory'],
  EROFS: ['read-only file system', 'choose an output directory on a writable file system'],
  ENOTDIR: ['a part of the path is a file', 'choose an output directory path of directories'],
  EEXIST: ['a file is in the way', 'remove it or choose another output directory'],
  EMFILE: ['too many open files', 'raise the open-file limit (ulimit -n) or use fewer devices'],
  ENAMETOOLONG: ['file name too long', 'choose a shorter report name or directory'],
  ENOENT: ['a part of the path does not exist', 'check the output directory path'],
  EIO: ['input/output error', 'check the disk, or choose another output directory'],
};

/** Wraps a file-system error: what failed, where, why in words, and what to do. */
function outputError(err: unknown, path: string, what: string): FleetbenchError {
  if (err instanceof FleetbenchError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
  const [why, fix] = FIXES[code] ?? [code, 'choose another output directory'];
  return new FleetbenchError('E_OUTPUT', `${what} ${path}: ${why} (${code})`, {
    hint: fix,
    cause: err,
  });
}
