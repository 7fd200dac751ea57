/**
 * The live progress of a run on stderr: on a terminal, a panel redrawn in place once a second;
 * elsewhere (a pipe, a CI log), one plain line a second. Log lines printed during the run go
 * above the panel, which is drawn again below them.
 */

import type { RunProgress } from '../coordinator/progress.js';

/** The widest line the panel draws, columns. */
export const PANEL_WIDTH = 100;

const BAR_WIDTH = 30;

/** Where the panel writes: a stream, and whether it is a terminal. */
export interface PanelStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/**
 * The panel's lines for one progress record (no colour, at most `width` columns each).
 *
 * @param width columns. Default {@link PANEL_WIDTH}.
 */
export function renderProgressPanel(
  p: RunProgress,
  scenario: string,
  width = PANEL_WIDTH,
): string[] {
  const share = p.devices > 0 ? Math.min(1, p.connected / p.devices) : 0;
  const filled = Math.round(share * BAR_WIDTH);
  const bar = `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`;
  const lines = [
    `fleetbench ${scenario} · ${p.stage} · ${p.elapsedSec.toFixed(0)} s`,
    `devices   ${bar} ${p.connected} / ${p.devices} connected (${(share * 100).toFixed(0)}%)`,
    `rates     connects ${rate(p.connectsPerSec)}/s · ` +
      `messages out ${rate(p.publishedPerSec)}/s · in ${rate(p.receivedPerSec)}/s`,
    `errors    ${p.errors} failed or lost · rtt p99 ` +
      `${p.roundtripP99Ms === null ? '-' : ms(p.roundtripP99Ms)} (last interval)`,
    `harness   event-loop lag p99: coordinator ${ms(p.coordinatorLagMs)}, workers ` +
      `${p.workerLagMs === null ? '-' : ms(p.workerLagMs)}`,
  ];
  if (p.saturated.length > 0) lines.push(`SATURATED ${p.saturated.join('; ')}`);
  return lines.map((l) => (l.length <= width ? l : `${l.slice(0, width - 1)}…`));
}

/** One progress record as a single plain line (for logs that are not a terminal). */
export function formatProgressLine(p: RunProgress): string {
  const p99 = p.roundtripP99Ms === null ? '-' : ms(p.roundtripP99Ms);
  return (
    `[${p.elapsedSec.toFixed(0).padStart(4)} s] ${p.stage.padEnd(10)} ` +
    `connected ${p.connected}/${p.devices}  connects/s ${rate(p.connectsPerSec)}  ` +
    `msg/s out ${rate(p.publishedPerSec)} in ${rate(p.receivedPerSec)}  ` +
    `errors ${p.errors}  rtt p99 ${p99}  lag ${ms(p.coordinatorLagMs)}` +
    (p.saturated.length > 0 ? `  LOAD GENERATOR SATURATED (${p.saturated.join('; ')})` : '')
  );
}

function rate(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

function ms(v: number): string {
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ms`;
}

/** Draws progress records on a stream: in place on a terminal, as lines otherwise. */
export class ProgressPanel {
  private drawn = 0;
  private last: string[] = [];

  constructor(
    private readonly out: PanelStream,
    private readonly scenario: string,
  ) {}

  private get tty(): boolean {
    return this.out.isTTY === true;
  }

  /** Shows one progress record. */
  update(p: RunProgress): void {
    if (!this.tty) {
      this.out.write(`${formatProgressLine(p)}\n`);
      return;
    }
    const width = Math.min(PANEL_WIDTH, (this.out.columns ?? PANEL_WIDTH) - 1);
    this.last = renderProgressPanel(p, this.scenario, width);
    this.redraw();
  }

  /** Prints a log line above the panel (the panel is drawn again below it). */
  log(line: string): void {
    if (!this.tty) {
      this.out.write(`${line}\n`);
      return;
    }
    this.clear();
    this.out.write(`${line}\n`);
    this.drawn = 0;
    this.redraw();
  }

  /** Leaves the last panel on screen and stops redrawing over it. */
  done(): void {
    this.drawn = 0;
    this.last = [];
  }

  private clear(): void {
    // Up to the panel's first line, then clear to the end of the screen.
    if (this.drawn > 0) this.out.write(`\x1b[${this.drawn}F\x1b[J`);
  }

  private redraw(): void {
    if (this.last.length === 0) return;
    this.clear();
    this.out.write(`${this.last.join('\n')}\n`);
    this.drawn = this.last.length;
  }
}
