/**
 * The HTML report in a real headless Chromium (Debian's `chromium`): built from a real run with
 * failures and thresholds, opened from disk with the network cut off; the charts must render,
 * the console must stay clean, and a screenshot is kept in test-artifacts/.
 */

import assert from 'node:assert/strict';
import { access, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import puppeteer, { type Browser } from 'puppeteer-core';

import type { ReportDocument } from '../../src/report/document.js';
import { renderHtml } from '../../src/report/html.js';
import { makeTestPki, type TestPki } from '../helpers/pki.js';
import { runScenario } from '../helpers/run.js';

/** Where the page and its screenshot are kept (gitignored). */
const ARTIFACTS = path.resolve(import.meta.dirname, '../../../test-artifacts');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Per canvas, how many pixels are not transparent (a blank canvas has none). */
const COUNT_INKED_PIXELS = `Array.from(document.querySelectorAll('canvas')).map((c) => {
  const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 3; i < px.length; i += 4) if (px[i] > 0) n++;
  return n;
})`;

const chromium = await access(CHROMIUM).then(
  () => true,
  () => false,
);

describe('the HTML report in headless Chromium', () => {
  const skip = chromium ? false : `${CHROMIUM} is not installed (.ci/run installs chromium)`;
  let pki: TestPki;
  let report: ReportDocument;
  let browser: Browser | undefined;

  before(async () => {
    if (skip) return;
    pki = await makeTestPki();
    const scenario = {
      name: 'html',
      devices: 84,
      workers: 2,
      connect: { ratePerSec: 60, maxInFlight: 16 },
      traffic: { qos: 1, intervalMs: 250, payloadBytes: 64 },
      durationSec: 2,
      drainMs: 2000,
      thresholds: ['connect.failed.rate < 1%', 'roundtrip.p99 < 10s'],
      groups: [
        { name: 'fleet', devices: 80 },
        {
          name: 'foreign',
          devices: 4,
          expect: 'refuse',
          identity: { ca: pki.layout.caCert, cert: pki.foreign.certFile, key: pki.foreign.keyFile },
        },
      ],
    };
    report = (await runScenario(scenario, pki.dir)).report;
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      // Tests run as root in CI, where Chromium's sandbox cannot start.
      args: ['--no-sandbox', '--disable-gpu'],
    });
  });
  after(async () => {
    await browser?.close();
    await pki?.cleanup();
  });

  test('charts render, nothing is fetched, the console stays clean', { skip }, async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    const file = path.join(ARTIFACTS, 'report.html');
    await writeFile(file, renderHtml(report));

    const page = await (browser as Browser).newPage();
    await page.setViewport({ width: 1280, height: 900 });
    const problems: string[] = [];
    const fetched: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warn') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${String(e)}`));
    await page.setRequestInterception(true);
    page.on('request', (r) => {
      if (r.url() === `file://${file}`) return void r.continue();
      fetched.push(r.url());
      void r.abort();
    });

    await page.goto(`file://${file}`, { waitUntil: 'load' });
    await page.waitForSelector('#timeline[data-rendered="true"]', { timeout: 10_000 });
    await page.waitForSelector('#distribution[data-rendered="true"]', { timeout: 10_000 });

    // Three charts, each with plotted pixels (a blank canvas has none).
    // Evaluated in the page (as text: this program is compiled without the DOM's types).
    const inked = (await page.evaluate(COUNT_INKED_PIXELS)) as number[];
    assert.equal(inked.length, 3, `canvases: ${inked.length}`);
    for (const n of inked) assert.ok(n > 2000, `a chart drew only ${n} pixels`);

    const text = (await page.evaluate('document.body.innerText')) as string;
    assert.match(text, /Connected devices and rates per second/);
    assert.match(text, /99\.999%/, 'the percentile axis reaches 99.999');
    assert.match(text, /roundtrip/);
    assert.match(text, /Connect breakdown: TCP, TLS, CONNACK/);
    assert.match(text, /connect\.failed\.tls\s+4\s+4\.8%/, 'failures by category');
    assert.match(text, /connect\.failed\.rate < 1%\s+4\.762 %\s+FAIL/);
    assert.match(text, /roundtrip\.p99 < 10s\s+[\d.]+ s\s+pass/);
    assert.match(text, /ramp/, 'the phases are named');

    await page.screenshot({ path: path.join(ARTIFACTS, 'report.png'), fullPage: true });
    assert.deepEqual(problems, [], 'console errors or warnings');
    assert.deepEqual(fetched, [], 'the page fetched something');
    await page.close();
  });
});
