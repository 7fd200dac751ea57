/** Runs the built fleetbench CLI as a child process, the way a user or CI job does. */

import { execFile } from 'node:child_process';
import path from 'node:path';

/** The compiled CLI entry point (tests run from dist/test/...). */
export const CLI = path.resolve(import.meta.dirname, '../../src/cli/main.js');

/** What a CLI run printed and how it exited. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `fleetbench <args>` and waits for it to exit.
 *
 * @param timeoutMs killed (by its own pid) after this long. Default 60 s.
 */
export function runCli(args: string[], cwd?: string, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        cwd,
        timeout: timeoutMs,
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, NO_COLOR: '1' },
      },
      (err, stdout, stderr) => {
        if (err !== null && typeof err.code !== 'number')
          return reject(err instanceof Error ? err : new Error('execFile failed'));
        resolve({ code: err === null ? 0 : Number(err.code), stdout, stderr });
      },
    );
  });
}
