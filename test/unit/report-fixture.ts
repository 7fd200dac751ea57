/** Sample reports for the report tests, built from real recorders so histograms are genuine. */

import { mergeSnapshots } from '../../src/metrics/merge.js';
import { MetricsRecorder } from '../../src/metrics/recorder.js';
import type { MetricsSnapshot } from '../../src/metrics/types.js';
import { buildReport, type BuildReportInput } from '../../src/report/build-report.js';
import type { ReportDocument } from '../../src/report/document.js';

/** A final snapshot of `devices` connects and `messages` round trips, from two recorders. */
export function sampleSnapshot(devices = 200, messages = 2000): MetricsSnapshot {
  const recorders = [new MetricsRecorder({ startNs: 0n }), new MetricsRecorder({ startNs: 0n })];
  try {
    recorders.forEach((r, w) => {
      for (let i = 0; i < devices / 2; i++) {
        r.count('connect.attempted');
        r.count('connect.ok');
        r.record('tcp', 150 + i);
        r.record('tls', 1500 + 10 * i);
        r.record('connack', 400 + w);
        r.record('connect', 2100 + 11 * i);
      }
      for (let i = 0; i < messages / 2; i++) {
        r.count('messages.published');
        r.count('messages.acked');
        r.count('messages.received');
        r.record('puback', 900 + (i % 100));
        r.record('roundtrip', 1200 + (i % 1000) * 3);
      }
      r.gauge('devices.connected', devices / 2);
    });
    return mergeSnapshots(recorders.map((r) => r.total(10_000_000_000n)));
  } finally {
    recorders.forEach((r) => r.destroy());
  }
}

/** The input of a plausible finished run; override any field. */
export function sampleInput(overrides: Partial<BuildReportInput> = {}): BuildReportInput {
  return {
    scenario: { name: 'quickstart', file: 'scenarios/quickstart.yaml', sha256: 'ab'.repeat(32) },
    options: {
      target: 'mqtts://127.0.0.1:8884',
      devices: 200,
      workers: 2,
      identity: { certFile: 'certs/common.crt', keyFile: 'certs/common.key' },
    },
    tool: { name: 'fleetbench', version: '0.1.0' },
    host: {
      hostname: 'bench-1',
      platform: 'linux',
      arch: 'x64',
      cpus: 2,
      cpuModel: 'Test CPU',
      memoryBytes: 4 * 2 ** 30,
    },
    startedAt: '2026-12-03T21:31:05.123Z',
    endedAt: '2026-12-03T21:31:17.456Z',
    durationMs: 12_333,
    partial: null,
    warnings: [],
    metrics: sampleSnapshot(),
    failures: [],
    ...overrides,
  };
}

/** A built sample report. */
export function sampleReport(overrides: Partial<BuildReportInput> = {}): ReportDocument {
  return buildReport(sampleInput(overrides));
}
