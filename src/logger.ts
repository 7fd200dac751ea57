/** The logger the library takes. The library never prints; the CLI passes one to stderr. */

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
}

/** A logger that drops everything (the default for library callers and tests). */
export const silentLogger: Logger = { info: () => undefined, warn: () => undefined };
