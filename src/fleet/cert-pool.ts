/**
 * Worker threads for bulk certificate work (minting a fleet's certificates, checking them
 * before a run), so both cores work. piscina runs the tasks of cert-task.ts; this is its home
 * for that job, as coordinator/pool.ts is for fleet runs.
 */

import os from 'node:os';
import { Piscina } from 'piscina';

import type { CheckResult, CheckTask, MintResult, MintTask } from './cert-task.js';

/** A pool of threads running certificate tasks. Close it when done. */
export class CertPool {
  private readonly piscina: Piscina;

  /** @param threads Worker threads. Default: the number of cores. */
  constructor(threads = os.availableParallelism()) {
    this.piscina = new Piscina({
      filename: new URL('./cert-task.js', import.meta.url).href,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 1000,
    });
  }

  /** Threads in the pool. */
  get threads(): number {
    return this.piscina.options.maxThreads;
  }

  /** Runs one task on a free thread. */
  mint(task: MintTask): Promise<MintResult> {
    return this.piscina.run(task) as Promise<MintResult>;
  }

  /** Checks a chunk of devices on a free thread. */
  check(task: CheckTask): Promise<CheckResult> {
    return this.piscina.run(task) as Promise<CheckResult>;
  }

  /** Ends the threads after their current tasks. */
  async close(): Promise<void> {
    await this.piscina.close();
  }
}
