/**
 * The offset of this machine's wall clock from a time server, measured with SNTP (RFC 4330)
 * before a sharded run: shards on several machines that each measure against the same server
 * can start at the agreed instant by that server's clock, and merge can place their time
 * series by it instead of by their own clocks.
 *
 * One exchange gives the offset `((t2 - t1) + (t3 - t4)) / 2` with an error of at most half
 * the round trip `(t4 - t1) - (t3 - t2)`; the exchange with the shortest round trip of a few
 * is kept. Only an explicitly named server is asked (`--clock-server`): nothing leaves the
 * machine otherwise.
 */

import dgram from 'node:dgram';
import net from 'node:net';

import { FleetbenchError } from '../errors.js';

/** Seconds from the NTP epoch (1900) to the Unix epoch (1970). */
const NTP_EPOCH_OFFSET_SEC = 2_208_988_800;

/** A measured offset. */
export interface ClockOffset {
  /** The server asked, `host:port`. */
  server: string;
  /** Server time minus this machine's, ms (positive: this clock is behind). */
  offsetMs: number;
  /** Round trip of the exchange kept, ms: the offset is right to within half of it. */
  roundTripMs: number;
  /** Exchanges answered. */
  samples: number;
}

/** Options of {@link measureClockOffset}. */
export interface ClockOffsetOptions {
  /** Exchanges to try. Default 4. */
  samples?: number;
  /** Wait for each answer, ms. Default 1000. */
  timeoutMs?: number;
}

/**
 * Parses `host[:port]` (port 123 by default; `[v6]:port` for IPv6).
 * @throws FleetbenchError `E_USAGE` naming the value
 */
export function parseClockServer(text: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:]+)(?::(\d+))?$/.exec(text);
  const host = m?.[1];
  const port = m?.[2] === undefined ? 123 : Number(m[2]);
  if (host === undefined || host === '' || !(port > 0 && port < 65536)) {
    throw new FleetbenchError('E_USAGE', `--clock-server must be host[:port] (got "${text}")`, {
      hint: 'an NTP server every shard can reach, e.g. --clock-server time.example.internal',
    });
  }
  return { host, port };
}

/**
 * Measures the offset against an SNTP server.
 * @throws FleetbenchError `E_TARGET` when no exchange was answered in time
 */
export async function measureClockOffset(
  server: string,
  options: ClockOffsetOptions = {},
): Promise<ClockOffset> {
  const { host, port } = parseClockServer(server);
  const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
  const samples: { offsetMs: number; roundTripMs: number }[] = [];
  try {
    for (let i = 0; i < (options.samples ?? 4); i++) {
      const sample = await exchange(socket, host, port, options.timeoutMs ?? 1000);
      if (sample !== null) samples.push(sample);
    }
  } finally {
    socket.close();
  }
  const best = samples.sort((a, b) => a.roundTripMs - b.roundTripMs)[0];
  if (best === undefined) {
    throw new FleetbenchError('E_TARGET', `the time server ${host}:${port} did not answer`, {
      hint: 'check --clock-server (an NTP server on UDP port 123), or leave it out',
    });
  }
  return { server: `${host}:${port}`, ...best, samples: samples.length };
}

/** Wall-clock time with the precision of the monotonic clock, ms since the epoch. */
function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** One request and its answer, or null after `timeoutMs` or for a bad answer. */
function exchange(
  socket: dgram.Socket,
  host: string,
  port: number,
  timeoutMs: number,
): Promise<{ offsetMs: number; roundTripMs: number } | null> {
  const request = Buffer.alloc(48);
  request[0] = 0x23; // leap 0, version 4, mode 3 (client)
  const t1 = nowMs();
  writeTimestamp(request, 40, t1);
  return new Promise((resolve) => {
    const done = (value: { offsetMs: number; roundTripMs: number } | null) => {
      clearTimeout(timer);
      socket.off('message', onMessage);
      resolve(value);
    };
    const onMessage = (msg: Buffer) => {
      const t4 = nowMs();
      // A server's answer (mode 4), not a kiss-o'-death (stratum 0), to this request.
      if (msg.length < 48 || ((msg[0] ?? 0) & 7) !== 4 || msg[1] === 0) return done(null);
      if (!msg.subarray(24, 32).equals(request.subarray(40, 48))) return;
      const t2 = readTimestamp(msg, 32);
      const t3 = readTimestamp(msg, 40);
      done({ offsetMs: (t2 - t1 + (t3 - t4)) / 2, roundTripMs: t4 - t1 - (t3 - t2) });
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    socket.on('message', onMessage);
    socket.send(request, port, host, (err) => {
      if (err) done(null);
    });
  });
}

function writeTimestamp(buf: Buffer, at: number, ms: number): void {
  const seconds = Math.floor(ms / 1000) + NTP_EPOCH_OFFSET_SEC;
  const fraction = Math.floor(((ms % 1000) / 1000) * 2 ** 32);
  buf.writeUInt32BE(seconds >>> 0, at);
  buf.writeUInt32BE(fraction >>> 0, at + 4);
}

/** An NTP timestamp as ms since the Unix epoch. */
export function readTimestamp(buf: Buffer, at: number): number {
  const seconds = buf.readUInt32BE(at) - NTP_EPOCH_OFFSET_SEC;
  return seconds * 1000 + (buf.readUInt32BE(at + 4) / 2 ** 32) * 1000;
}
