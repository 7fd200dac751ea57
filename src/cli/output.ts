/** Where the CLI writes: logs and progress to stderr, so stdout stays clean for results. */

import type { Logger } from '../logger.js';

export function stderrLogger(): Logger {
  return {
    info: (m) => process.stderr.write(`${m}\n`),
    warn: (m) => process.stderr.write(`warning: ${m}\n`),
  };
}
