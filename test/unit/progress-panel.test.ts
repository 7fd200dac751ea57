import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  formatProgressLine,
  PANEL_WIDTH,
  ProgressPanel,
  renderProgressPanel,
} from '../../src/cli/progress-panel.js';
import type { RunProgress } from '../../src/coordinator/progress.js';

const PROGRESS: RunProgress = {
  elapsedSec: 12.4,
  stage: 'steady',
  devices: 200,
  connected: 150,
  connectsPerSec: 99.5,
  publishedPerSec: 150,
  receivedPerSec: 149.25,
  errors: 3,
  roundtripP99Ms: 3.21,
  saturated: [],
  coordinatorLagMs: 1.25,
  workerLagMs: 4.5,
};

/** A stream that keeps what is written to it. */
function stream(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, isTTY, columns: 120, write: (t: string) => chunks.push(t) };
}

describe('the live progress panel', () => {
  it('shows phase, devices of the target, rates, errors, round-trip p99 and lag', () => {
    const lines = renderProgressPanel(PROGRESS, 'quickstart');
    const text = lines.join('\n');
    assert.match(text, /fleetbench quickstart · steady · 12 s/);
    assert.match(text, /150 \/ 200 connected \(75%\)/);
    assert.match(text, /connects 99\.5\/s · messages out 150\/s · in 149\/s/);
    assert.match(text, /3 failed or lost · rtt p99 3\.2 ms/);
    assert.match(text, /coordinator 1\.3 ms, workers 4\.5 ms/);
    for (const l of lines) assert.ok(l.length <= PANEL_WIDTH, l);
    const saturated = renderProgressPanel(
      { ...PROGRESS, saturated: ['worker 1: CPU 97% of a core > 90%'], roundtripP99Ms: null },
      'q',
      60,
    );
    assert.match(saturated.join('\n'), /SATURATED worker 1: CPU/);
    assert.match(saturated.join('\n'), /rtt p99 - /);
    for (const l of saturated) assert.ok(l.length <= 60, l);
  });

  it('redraws in place on a terminal, keeping log lines above it', () => {
    const out = stream(true);
    const panel = new ProgressPanel(out, 'quickstart');
    panel.update(PROGRESS);
    panel.update({ ...PROGRESS, connected: 200 });
    panel.log('warning: something');
    panel.done();
    const all = out.chunks.join('');
    const lines = renderProgressPanel(PROGRESS, 'quickstart').length;
    assert.equal(out.chunks[0]?.includes('\u001b['), false, 'nothing to clear the first time');
    assert.ok(out.chunks[1]?.startsWith(`\u001b[${lines}F\u001b[J`), 'moves up and clears');
    assert.match(all, /200 \/ 200 connected[\s\S]*warning: something\n[\s\S]*200 \/ 200 connected/);
  });

  it('writes one plain line per update elsewhere', () => {
    const out = stream(false);
    const panel = new ProgressPanel(out, 'quickstart');
    panel.update(PROGRESS);
    panel.log('a log line');
    assert.deepEqual(out.chunks, [`${formatProgressLine(PROGRESS)}\n`, 'a log line\n']);
    assert.ok(!out.chunks.join('').includes('\u001b'), 'no escape codes in a log');
    assert.match(formatProgressLine(PROGRESS), /^\[ {2}12 s\] steady +connected 150\/200/);
  });
});
