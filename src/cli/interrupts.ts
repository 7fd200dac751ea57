/**
 * Ctrl-C and SIGTERM during a run: the first asks for a graceful stop (a partial report is
 * written), the second for a stop at once, the third exits without a report.
 */

import { ExitCode } from '../errors.js';
import type { Logger } from '../logger.js';

/** The stop requests of one run, fed by SIGINT and SIGTERM until `dispose()`. */
export interface Interrupts {
  /** Aborted (reason `interrupted`) by the first signal. */
  stop: AbortSignal;
  /** Aborted by the second. */
  force: AbortSignal;
  dispose(): void;
}

/** What the first two signals do, for the messages, and what to do before a third exits. */
export interface InterruptText {
  stop: string;
  force: string;
  /** Called before the third signal exits (e.g. to end child processes). */
  beforeExit?: () => void;
}

/** Listens for SIGINT and SIGTERM. */
export function listenForInterrupts(
  log: Logger,
  what: InterruptText = {
    stop: 'devices disconnect and the report is written (partial)',
    force: 'ending the workers now; the report keeps what they sent',
  },
): Interrupts {
  const stop = new AbortController();
  const force = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (!stop.signal.aborted) {
      log.warn(`${signal}: stopping: ${what.stop}; press Ctrl-C again to stop at once`);
      stop.abort('interrupted');
    } else if (!force.signal.aborted) {
      log.warn(`${signal} again: ${what.force}`);
      force.abort('interrupted');
    } else {
      log.warn(`${signal} a third time: exiting without writing the report`);
      what.beforeExit?.();
      process.exit(ExitCode.interrupted);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    stop: stop.signal,
    force: force.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
