/**
 * Runs the built fleetbench CLI as a child process, the way a user or CI job does, so tests see
 * its exit code, stdout and stderr. Ends only the children it started, by pid.
 */

import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import type { ReportDocument } from '../../src/report/document.js';
import { makeTestPki, type TestPki } from './pki.js';

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

/** How a CLI child ended. */
export interface CliExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running CLI child. */
export interface CliProcess {
  child: ChildProcess;
  pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves when stderr matches `pattern`; rejects after `timeoutMs` or if the child ends. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves when the child has ended; kills it (SIGKILL, by pid) after `timeoutMs`. */
  exited(timeoutMs?: number): Promise<CliExit>;
}

/** Options of {@link startCli}. */
export interface StartCliOptions {
  cwd?: string;
  /** Added to the environment. */
  env?: Record<string, string>;
  /** A shell prefix such as `ulimit -n 256;` (runs the CLI under `bash -c`). */
  shellPrefix?: string;
}

/** Starts `node dist/src/cli/main.js ...args`. */
export function startCli(args: string[], options: StartCliOptions = {}): CliProcess {
  const env = { ...process.env, ...options.env };
  const child =
    options.shellPrefix === undefined
      ? spawn(process.execPath, [CLI, ...args], { cwd: options.cwd, env })
      : spawn(
          'bash',
          ['-c', `${options.shellPrefix} exec "$0" "$@"`, process.execPath, CLI, ...args],
          { cwd: options.cwd, env },
        );
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const ended = new Promise<CliExit>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal, stdout: out, stderr: err }));
  });

  return {
    child,
    pid: child.pid ?? -1,
    stdout: () => out,
    stderr: () => err,
    waitForStderr: (pattern, timeoutMs = 30_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!pattern.test(err)) return;
          cleanup();
          resolve();
        };
        const onEnd = () => {
          cleanup();
          reject(new Error(`CLI ended before stderr matched ${pattern}:\n${err}`));
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`stderr did not match ${pattern} within ${timeoutMs} ms:\n${err}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          child.stderr?.off('data', check);
          child.off('close', onEnd);
        };
        child.stderr?.on('data', check);
        child.once('close', onEnd);
        check();
      }),
    exited: async (timeoutMs = 60_000) => {
      const timer = setTimeout(() => {
        if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      }, timeoutMs);
      const result = await ended;
      clearTimeout(timer);
      return result;
    },
  };
}

/** Runs the CLI to its end, with {@link StartCliOptions} (environment, shell prefix). */
export async function runCliWith(
  args: string[],
  options: StartCliOptions = {},
  timeoutMs = 60_000,
): Promise<CliExit> {
  return startCli(args, options).exited(timeoutMs);
}

/** A temp directory and a test PKI for CLI runs, made before the tests and removed after. */
export interface CliWorkspace {
  /** The PKI; pass `pki.dir` as `--certs`. */
  readonly pki: TestPki;
  /** The temp directory. */
  readonly dir: string;
  /**
   * Writes `scenario` as `<name>.json` and returns the arguments that run it with reports in
   * `out` (default: a directory of its own).
   */
  runArgs(scenario: object, name: string, out?: string): Promise<{ args: string[]; out: string }>;
}

/** Registers `before`/`after` hooks that make and remove a {@link CliWorkspace}. */
export function useCliWorkspace(prefix: string): CliWorkspace {
  let pki: TestPki | undefined;
  let dir: string | undefined;
  before(async () => {
    pki = await makeTestPki();
    dir = await mkdtemp(path.join(os.tmpdir(), `fleetbench-${prefix}-`));
  });
  after(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    await pki?.cleanup();
  });
  const ready = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('the workspace is made in before()');
    return v;
  };
  return {
    get pki() {
      return ready(pki);
    },
    get dir() {
      return ready(dir);
    },
    async runArgs(scenario, name, out = path.join(ready(dir), `${name}-reports`)) {
      const file = path.join(ready(dir), `${name}.json`);
      await writeFile(file, JSON.stringify(scenario));
      return { args: ['run', file, '--out', out, '--certs', ready(pki).dir], out };
    },
  };
}

/** The one report in `dir` (failing the test if there is not exactly one). */
export async function onlyReport(dir: string): Promise<ReportDocument> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json'));
  assert.equal(files.length, 1, `reports in ${dir}: ${files.join(', ')}`);
  return JSON.parse(await readFile(path.join(dir, files[0] ?? ''), 'utf8')) as ReportDocument;
}
