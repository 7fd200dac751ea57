import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { FleetbenchError } from '../../src/errors.js';
import { summarize } from '../../src/metrics/merge.js';
import { buildReport } from '../../src/report/build-report.js';
import { readReport } from '../../src/report/read-report.js';
import { writeReport } from '../../src/report/write.js';
import { sampleInput, sampleReport } from './report-fixture.js';

const PEM_KEY = [
  '-----BEGIN PRIVATE KEY-----',
  'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg',
  '-----END PRIVATE KEY-----',
].join('\n');

describe('buildReport', () => {
  it('writes format 1 with summaries in µs and the encoded histograms', () => {
    const input = sampleInput();
    const doc = buildReport(input);

    assert.equal(doc.formatVersion, 1);
    assert.equal(doc.kind, 'fleetbench-run');
    assert.deepEqual(doc.metrics.histograms, input.metrics.histograms);
    assert.deepEqual(doc.metrics.counters, input.metrics.counters);
    const roundtrip = doc.metrics.latency.roundtrip ?? assert.fail('no roundtrip summary');
    assert.equal(roundtrip.count, 2000);
    assert.deepEqual(roundtrip, summarize(input.metrics.histograms.roundtrip ?? ''));
    assert.equal(doc.nodeVersion, process.version);
    assert.equal(doc.thresholds, undefined);
    assert.equal(doc.timeSeries, undefined);
  });

  it('copies its input, so later changes to it do not reach the report', () => {
    const input = sampleInput({ warnings: ['first'] });
    const doc = buildReport(input);
    input.warnings.push('second');
    input.options.devices = 1;
    assert.deepEqual(doc.warnings, ['first']);
    assert.equal(doc.options.devices, 200);
  });

  it('refuses a PEM private key anywhere, naming the path but not the key', () => {
    const cases = [
      sampleInput({ options: { target: 'x', devices: 1, workers: 1, tls: { key: PEM_KEY } } }),
      sampleInput({ warnings: [`bad key ${PEM_KEY.replace('PRIVATE', 'EC PRIVATE')}`] }),
    ];
    const paths = ['report.options.tls.key', 'report.warnings[0]'];

    cases.forEach((input, i) => {
      assert.throws(
        () => buildReport(input),
        (err: unknown) =>
          err instanceof FleetbenchError &&
          err.code === 'E_INTERNAL' &&
          err.message.includes(paths[i] ?? '?') &&
          !err.message.includes('MIGHAgEA'),
      );
    });
  });

  it('accepts a certificate (public) in the options', () => {
    const cert = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
    const input = sampleInput({ options: { target: 'x', devices: 1, workers: 1, ca: cert } });
    assert.equal(buildReport(input).options.ca, cert);
  });

  it('refuses values JSON cannot hold', () => {
    const input = sampleInput();
    (input.options as Record<string, unknown>).rate = Number.NaN;
    assert.throws(() => buildReport(input), /report\.options\.rate is NaN/);
  });
});

describe('readReport', () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fleetbench-read-'));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function fileWith(name: string, content: unknown): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  }

  async function readError(file: string): Promise<FleetbenchError> {
    const err: unknown = await readReport(file).then(
      () => assert.fail('readReport accepted a bad report'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof FleetbenchError);
    assert.equal(err.code, 'E_REPORT');
    assert.ok(err.message.includes(file), `message names the file: ${err.message}`);
    return err;
  }

  it('reads back what writeReport wrote', async () => {
    const doc = sampleReport();
    const path = await writeReport(dir, doc, { baseName: 'roundtrip' });
    assert.deepEqual(await readReport(path), doc);
  });

  it('names the file when it is missing or not JSON', async () => {
    assert.match((await readError(join(dir, 'missing.json'))).message, /does not exist/);
    const truncated = await fileWith('truncated.json', '{"formatVersion": 1, "kind": "flee');
    assert.match((await readError(truncated)).message, /not valid JSON/);
  });

  it('refuses other JSON and newer formats with a clear message', async () => {
    const other = await fileWith('other.json', { name: 'package' });
    assert.match((await readError(other)).message, /not a fleetbench run report/);

    const newer = await fileWith('newer.json', { ...sampleReport(), formatVersion: 2 });
    const err = await readError(newer);
    assert.match(err.message, /format 2, newer than this fleetbench reads \(format 1\)/);
    assert.match(err.hint ?? '', /upgrade/);
  });

  it('lists every structural problem with its path', async () => {
    const doc = sampleReport() as unknown as Record<string, unknown>;
    const metrics = doc.metrics as Record<string, unknown>;
    const damaged = {
      ...doc,
      durationMs: 'long',
      metrics: { ...metrics, endNs: 12, counters: { 'connect.ok': 'many' } },
    };
    const err = await readError(await fileWith('damaged.json', damaged));
    assert.deepEqual(err.problems, [
      'durationMs must be a number (got "long")',
      'metrics.endNs must be a decimal string of nanoseconds (got 12)',
      'metrics.counters.connect.ok must be a number (got "many")',
    ]);
  });
});
