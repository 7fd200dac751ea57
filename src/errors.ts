/**
 * The one error class of fleetbench. Every error a user can cause carries a stable `code`,
 * a message that names the setting, the bad value and the file, and a hint with the fix.
 * The CLI maps codes to exit codes; the library never exits.
 */

/** Stable error codes. The CLI maps each to an exit code (see `exitCodeFor`). */
export type ErrorCode =
  | 'E_USAGE'
  | 'E_SCENARIO'
  | 'E_SCENARIO_PARSE'
  | 'E_CERTS'
  | 'E_CERTS_EXIST'
  | 'E_TARGET'
  | 'E_BROKER'
  | 'E_OUTPUT'
  | 'E_REPORT'
  | 'E_LIMIT'
  | 'E_WORKER'
  | 'E_INTERNAL';

/** Process exit codes, documented in the README. */
export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  threshold: 3,
  setup: 4,
  interrupted: 130,
} as const;

export interface FleetbenchErrorOptions {
  /** What the user should do about it. */
  hint?: string;
  /** Individual problems, each with its path (validation reports every problem at once). */
  problems?: string[];
  cause?: unknown;
}

export class FleetbenchError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly problems: string[];

  constructor(code: ErrorCode, message: string, options: FleetbenchErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FleetbenchError';
    this.code = code;
    this.hint = options.hint;
    this.problems = options.problems ?? [];
  }
}

/** The exit code the CLI uses for an error. */
export function exitCodeFor(err: unknown): number {
  if (!(err instanceof FleetbenchError)) return ExitCode.internal;
  switch (err.code) {
    case 'E_USAGE':
    case 'E_SCENARIO':
    case 'E_SCENARIO_PARSE':
    case 'E_REPORT':
      return ExitCode.usage;
    case 'E_CERTS':
    case 'E_CERTS_EXIST':
    case 'E_TARGET':
    case 'E_BROKER':
    case 'E_OUTPUT':
    case 'E_LIMIT':
      return ExitCode.setup;
    case 'E_WORKER':
    case 'E_INTERNAL':
      return ExitCode.internal;
  }
}

/** Formats an error for a person: message, each problem on its own line, then the hint. */
export function formatError(err: unknown): string {
  if (!(err instanceof FleetbenchError)) {
    const e = err instanceof Error ? err : new Error(String(err));
    return `fleetbench: internal error: ${e.stack ?? e.message}`;
  }
  const lines = [`fleetbench: ${err.message}`];
  for (const p of err.problems) lines.push(`  - ${p}`);
  if (err.hint) lines.push(`hint: ${err.hint}`);
  return lines.join('\n');
}
