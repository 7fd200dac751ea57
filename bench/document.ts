/**
 * The bench's JSON document (`reports/bench-<UTC time>.json`): the options it ran with, the
 * machine, every figure with its ratio and target, and the raw probe results behind them.
 */

import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { TOOL_VERSION } from '../src/coordinator/assemble-report.js';
import { FleetbenchError } from '../src/errors.js';
import { writeFileAtomic } from '../src/fleet/write-file-atomic.js';
import { currentHost } from '../src/report/build-report.js';
import type { HostInfo } from '../src/report/document.js';
import type { BenchFigure, BenchResults } from './figures.js';
import type { BenchOptions } from './options.js';

/** The bench document, format 1. */
export interface BenchDocument {
  kind: 'fleetbench-bench';
  formatVersion: 1;
  tool: { name: 'fleetbench'; version: string };
  nodeVersion: string;
  /** `mosquitto -h`'s version line, e.g. `mosquitto version 2.0.11`. */
  brokerVersion: string;
  host: HostInfo;
  startedAt: string;
  endedAt: string;
  options: BenchOptions;
  /** Mosquitto processes the devices were spread over. */
  brokers: number;
  figures: BenchFigure[];
  results: BenchResults;
}

/** What {@link benchDocument} needs. */
export interface BenchDocumentInput {
  options: BenchOptions;
  startedAt: Date;
  endedAt: Date;
  brokers: number;
  figures: BenchFigure[];
  results: BenchResults;
}

function mosquittoVersion(): string {
  try {
    execFileSync('mosquitto', ['-h'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    // `mosquitto -h` exits 3 after printing its usage, which starts with the version.
    const stdout = (err as { stdout?: unknown }).stdout;
    const out = typeof stdout === 'string' ? stdout : '';
    return out.split('\n')[0]?.trim() || 'unknown';
  }
  return 'unknown';
}

/** Builds the document. */
export function benchDocument(input: BenchDocumentInput): BenchDocument {
  return {
    kind: 'fleetbench-bench',
    formatVersion: 1,
    tool: { name: 'fleetbench', version: TOOL_VERSION },
    nodeVersion: process.version,
    brokerVersion: mosquittoVersion(),
    host: currentHost(),
    startedAt: input.startedAt.toISOString(),
    endedAt: input.endedAt.toISOString(),
    options: input.options,
    brokers: input.brokers,
    figures: input.figures,
    results: input.results,
  };
}

/**
 * Writes the document as `<dir>/bench-<YYYYMMDD-HHMMSS>.json`, never over an existing file
 * (`-2`, `-3` ... when the name is taken).
 *
 * @returns the path written.
 * @throws FleetbenchError `E_OUTPUT` naming the path when it cannot be written.
 */
export async function writeBenchDocument(dir: string, doc: BenchDocument): Promise<string> {
  const stamp = doc.startedAt.replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const data = `${JSON.stringify(doc, null, 2)}\n`;
  await mkdir(dir, { recursive: true }).catch((err: unknown) => {
    throw new FleetbenchError('E_OUTPUT', `cannot create ${dir}: ${(err as Error).message}`, {
      hint: 'pass --out with a writable directory',
      cause: err,
    });
  });
  for (let n = 1; n <= 100; n++) {
    const path = join(dir, `bench-${stamp}${n === 1 ? '' : `-${n}`}.json`);
    try {
      await writeFileAtomic(path, data);
      return path;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw new FleetbenchError('E_OUTPUT', `cannot write ${path}: ${(err as Error).message}`, {
        hint: 'pass --out with a writable directory',
        cause: err,
      });
    }
  }
  throw new FleetbenchError('E_OUTPUT', `100 bench files named bench-${stamp}* exist in ${dir}`, {
    hint: 'move old bench files away or pass --out with another directory',
  });
}
