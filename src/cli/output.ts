/** Where the CLI writes: logs and progress to stderr, so stdout stays clean for results. */

import type { Logger } from '../logger.js';
import type { ProgressPanel } from './progress-panel.js';

/**
 * A logger to stderr; with a progress panel, its lines go above the panel.
 *
 * @param panel the run's live panel, if one is drawn. Default none.
 */
export function stderrLogger(panel?: ProgressPanel): Logger {
  const write = panel ? (m: string) => panel.log(m) : (m: string) => process.stderr.write(`${m}\n`);
  return {
    info: (m) => write(m),
    warn: (m) => write(`warning: ${m}`),
  };
}
