/**
 * Client CPU of mutual-TLS connects with a certificate per device, measured in this process
 * against a Mosquitto started here (the TLS handshake only, no MQTT): each device's options
 * given to `tls.connect` (a secure context built per connect, the usual way), against a
 * secure context per device built before (what `run` does), against a resumed session of the
 * device's own (reconnects). Connects run one at a time so the CPU is the handshake's.
 */

import { readFile } from 'node:fs/promises';
import tls from 'node:tls';

import type { ManifestDevice } from '../src/fleet/manifest.js';
import type { RunningMosquitto } from '../test/helpers/mosquitto.js';

/** CPU per connect, ms, for each way; and what building the contexts cost. */
export interface ConnectCpu {
  perConnectOptionsMs: number;
  cachedContextMs: number;
  contextBuildMs: number;
  resumedMs: number;
  resumed: number;
  devices: number;
}

interface Pem {
  cert: string;
  key: string;
}

/** Measures the three ways over `devices`, with TLS `version`. */
export async function measureConnectCpu(
  broker: RunningMosquitto,
  caPem: string,
  devices: ManifestDevice[],
  version: tls.SecureVersion,
): Promise<ConnectCpu> {
  const pems: Pem[] = await Promise.all(
    devices.map(async (d) => ({
      cert: await readFile(d.certFile, 'utf8'),
      key: await readFile(d.keyFile, 'utf8'),
    })),
  );
  const base = {
    host: '127.0.0.1',
    port: broker.port,
    servername: 'localhost',
    maxVersion: version,
    minVersion: version,
  };

  const perConnect = await cpuPer(pems.length, (i) => {
    const p = pems[i] as Pem;
    return handshake({ ...base, ca: caPem, cert: p.cert, key: p.key });
  });

  const built = process.cpuUsage();
  const contexts = pems.map((p) =>
    tls.createSecureContext({ ca: caPem, cert: p.cert, key: p.key }),
  );
  const contextBuildMs = cpuMs(process.cpuUsage(built)) / pems.length;

  const sessions: (Buffer | undefined)[] = [];
  const cached = await cpuPer(pems.length, async (i) => {
    sessions[i] = await handshake({ ...base, secureContext: contexts[i] });
  });
  let resumed = 0;
  const resumedMs = await cpuPer(pems.length, async (i) => {
    const reused = await handshake(
      { ...base, secureContext: contexts[i], session: sessions[i] },
      true,
    );
    if (reused) resumed++;
  });
  return {
    perConnectOptionsMs: perConnect,
    cachedContextMs: cached,
    contextBuildMs,
    resumedMs,
    resumed,
    devices: pems.length,
  };
}

async function cpuPer(n: number, connect: (i: number) => Promise<unknown>): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) await connect(i);
  return cpuMs(process.cpuUsage(start)) / n;
}

function cpuMs(u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1000;
}

/**
 * One handshake; resolves with the device's session ticket (or, when `reportReuse`, whether
 * the session was resumed) once the broker has accepted the client certificate.
 */
function handshake(options: tls.ConnectionOptions, reportReuse: true): Promise<boolean>;
function handshake(options: tls.ConnectionOptions): Promise<Buffer | undefined>;
function handshake(
  options: tls.ConnectionOptions,
  reportReuse = false,
): Promise<Buffer | boolean | undefined> {
  return new Promise((resolve, reject) => {
    let session: Buffer | undefined;
    const socket = tls.connect(options);
    // TLS 1.3 tickets come after the handshake; TLS 1.2's session is there at once.
    socket.on('session', (s: Buffer) => (session = s));
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      const reused = socket.isSessionReused();
      // Give the ticket (and the broker's verdict on our certificate) a moment to arrive.
      setTimeout(() => {
        socket.destroy();
        resolve(reportReuse ? reused : (session ?? socket.getSession()));
      }, 5);
    });
  });
}
