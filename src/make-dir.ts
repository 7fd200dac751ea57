/**
 * `mkdir -p` that always ends. Node's own `mkdir(dir, { recursive: true })` (sync and async,
 * v20) spins forever on a path under /proc such as `/proc/nope`: the child's mkdir fails with
 * ENOENT, the parent's with EEXIST, and it retries. This walks up once, then down once.
 */

import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';

/** Deepest directory path handled, in components; a longer one is a mistake. */
const MAX_DEPTH = 256;

/**
 * Creates `dir` and any missing parents. Node errors pass through unchanged (`ENOENT` when a
 * parent cannot hold directories, `ENOTDIR` when one is a file, `EACCES`, ...).
 */
export async function makeDir(dir: string): Promise<void> {
  const missing: string[] = [];
  let current = path.resolve(dir);
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const found = await stat(current).then(
      (s) => s,
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return null;
        throw err;
      },
    );
    if (found !== null) {
      if (!found.isDirectory()) throw errnoError('ENOTDIR', current);
      break;
    }
    missing.push(current);
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const d of missing.reverse()) {
    await mkdir(d).catch((err: NodeJS.ErrnoException) => {
      // Someone else made it in the meantime: fine.
      if (err.code !== 'EEXIST') throw err;
    });
  }
}

function errnoError(code: string, p: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${code}: not a directory, mkdir '${p}'`);
  err.code = code;
  err.path = p;
  return err;
}
