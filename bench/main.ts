/**
 * `npm run bench`: fleetbench's client path beside the bare node:tls floor and plain MQTT.js,
 * each in its own process, against Mosquittos this bench starts on loopback, with Mosquitto's
 * own CPU per connect read from /proc. Prints a table of figures as ratios against the
 * baselines of the same run and writes them as JSON under reports/.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exitCodeFor, formatError } from '../src/errors.js';
import { initCerts } from '../src/fleet/certs-init.js';
import type { RunningMosquitto } from '../test/helpers/mosquitto.js';
import { startBrokers, stopBrokers } from './brokers.js';
import { benchDocument, writeBenchDocument } from './document.js';
import { benchFigures } from './figures.js';
import { parseBenchOptions } from './options.js';
import { runBenchParts } from './run-parts.js';
import { renderBenchTable } from './table.js';

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

async function main(): Promise<void> {
  const options = parseBenchOptions(process.argv.slice(2));
  const startedAt = new Date();
  const dir = await mkdtemp(join(tmpdir(), 'fleetbench-bench-'));
  let brokers: RunningMosquitto[] = [];
  const cleanup = async () => {
    await stopBrokers(brokers);
    await rm(dir, { recursive: true, force: true });
  };
  // A probe child gets the terminal's SIGINT too and dies; the brokers are ours to stop.
  const onSignal = () => void cleanup().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const layout = await initCerts({ dir: join(dir, 'certs') });
    brokers = await startBrokers(layout, Math.ceil(options.connections / options.perBroker));
    log(
      `${brokers.length} Mosquitto(s) on 127.0.0.1, pids ${brokers.map((b) => b.pid).join(', ')}`,
    );
    const results = await runBenchParts(options, layout, brokers, log);
    const figures = benchFigures(results);
    const endedAt = new Date();
    const doc = benchDocument({
      options,
      startedAt,
      endedAt,
      brokers: brokers.length,
      figures,
      results,
    });
    const path = await writeBenchDocument(options.outDir, doc);
    const text = options.json
      ? JSON.stringify(doc, null, 2)
      : renderBenchTable(figures, options.clients);
    process.stdout.write(`${text}\n`);
    log(`figures written to ${path}`);
  } finally {
    await cleanup();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${formatError(err)}\n`);
  process.exitCode = exitCodeFor(err);
});
