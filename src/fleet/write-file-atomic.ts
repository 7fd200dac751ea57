/**
 * Atomic file writes for certificates and keys: a reader sees the old file or the new one,
 * never half of one, and a private key is never readable by others for even an instant.
 */
import { randomBytes } from 'node:crypto';
import { link, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Options of {@link writeFileAtomic}. */
export interface WriteFileAtomicOptions {
  /** File mode the file is created with (before the umask). Default `0o644`. */
  mode?: number;
  /**
   * Replace an existing file. Default `false`: an existing file makes the write fail with a
   * Node error whose `code` is `'EEXIST'`, and the existing file is left untouched.
   */
  overwrite?: boolean;
}

/**
 * Writes `data` to `path` through a temporary file in the same directory, created with `mode`
 * and synced before it takes the final name.
 */
export async function writeFileAtomic(
  path: string,
  data: string,
  options: WriteFileAtomicOptions = {},
): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);

  // Creating with the final mode (not chmod afterwards) closes the window where a key file
  // exists with the umask's default permissions.
  const handle = await open(tmp, 'wx', options.mode ?? 0o644);
  try {
    await handle.writeFile(data, 'utf8');
    await handle.sync();
  } catch (err) {
    await handle.close();
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await handle.close();

  try {
    await publish(tmp, path, options.overwrite ?? false);
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

async function publish(tmp: string, path: string, overwrite: boolean): Promise<void> {
  if (overwrite) {
    await rename(tmp, path);
    return;
  }
  // link() fails with EEXIST if the name is taken, so a file created by someone else between
  // our existence check and this write is never replaced.
  try {
    await link(tmp, path);
  } catch (err) {
    if (!isLinkUnsupported(err)) throw err;
    await rename(tmp, path);
  }
}

/** Some filesystems (FAT, some network mounts) have no hard links: fall back to rename. */
function isLinkUnsupported(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS';
}
