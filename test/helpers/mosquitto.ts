/**
 * Starts a real Mosquitto 2 for a test: a generated config with one mutual-TLS listener on a
 * free loopback port (`require_certificate`, `use_identity_as_username`, `set_tcp_nodelay`).
 * Ends only the process it started, by pid.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface MosquittoOptions {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** Extra config lines (an ACL file, a CRL, ...). */
  extraConfig?: string[];
  /** Listen without TLS (a plain MQTT port); the certificate files are then unused. */
  plain?: boolean;
  /** Port to listen on; default: a free one. */
  port?: number;
  /**
   * More listeners on free ports beside the main one: `wss` (WebSockets under the same mutual
   * TLS settings) and `tcp` (plain MQTT, anonymous).
   */
  alsoListen?: ('wss' | 'tcp')[];
}

export interface RunningMosquitto {
  port: number;
  url: string;
  /** The URLs of the `alsoListen` listeners: `wss://127.0.0.1:<port>/mqtt`, `mqtt://...`. */
  urls: { wss?: string; tcp?: string };
  pid: number;
  /** Everything Mosquitto wrote to stderr/stdout so far. */
  output(): string;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (bound then released). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** True when a `mosquitto` binary is on PATH. */
export async function haveMosquitto(): Promise<boolean> {
  return new Promise((resolve) => {
    const p = spawn('mosquitto', ['-h'], { stdio: 'ignore' });
    p.on('error', () => resolve(false));
    p.on('exit', () => resolve(true));
  });
}

export async function startMosquitto(o: MosquittoOptions): Promise<RunningMosquitto> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fleetbench-mosquitto-'));
  const port = o.port ?? (await freePort());
  const config = [
    // As root, Mosquitto would switch to the mosquitto user and lose access to the 0600 keys.
    'user root',
    'persistence false',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    `listener ${port} 127.0.0.1`,
    ...(o.plain
      ? ['allow_anonymous true']
      : [
          `cafile ${o.caFile}`,
          `certfile ${o.certFile}`,
          `keyfile ${o.keyFile}`,
          'require_certificate true',
          'use_identity_as_username true',
        ]),
    'set_tcp_nodelay true',
    ...(o.extraConfig ?? []),
  ];
  const urls: RunningMosquitto['urls'] = {};
  for (const kind of o.alsoListen ?? []) {
    const extra = await freePort();
    config.push(...extraListener(kind, extra, o));
    urls[kind] = kind === 'wss' ? `wss://127.0.0.1:${extra}/mqtt` : `mqtt://127.0.0.1:${extra}`;
  }
  const configFile = path.join(dir, 'mosquitto.conf');
  await writeFile(configFile, `${config.join('\n')}\n`);
  const child = spawn('mosquitto', ['-c', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  await waitListening(child, port, () => output);
  for (const url of Object.values(urls))
    await waitListening(child, Number(new URL(url).port), () => output);
  return {
    port,
    url: `mqtts://127.0.0.1:${port}`,
    urls,
    pid: child.pid ?? -1,
    output: () => output,
    stop: async () => {
      await stopChild(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Config lines of one more listener. Debian's 2.0.11 binds a websockets listener to an
 * interface name (`lo`: loopback only; an address there binds every interface), and starts it
 * only beside an MQTT listener ("Unable to start any listening sockets" otherwise).
 */
function extraListener(kind: 'wss' | 'tcp', port: number, o: MosquittoOptions): string[] {
  if (kind === 'tcp') return [`listener ${port} 127.0.0.1`, 'allow_anonymous true'];
  return [
    `listener ${port} lo`,
    'protocol websockets',
    `cafile ${o.caFile}`,
    `certfile ${o.certFile}`,
    `keyfile ${o.keyFile}`,
    'require_certificate true',
    'use_identity_as_username true',
  ];
}

async function waitListening(child: ChildProcess, port: number, output: () => string) {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited: ${output()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  await stopChild(child);
  throw new Error(`mosquitto did not listen on ${port} within 5 s: ${output()}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(
    () => child.pid !== undefined && process.kill(child.pid, 'SIGKILL'),
    3000,
  );
  await exited;
  clearTimeout(timer);
}

/**
 * Mosquitto on a test PKI's broker certificate with an ACL that lets each device use only the
 * topics under its own username (taken from its certificate): `pattern readwrite <prefix>/%u/#`.
 */
export async function startOwnTopicBroker(
  layout: { dir: string; caCert: string; serverCert: string; serverKey: string },
  prefix: string,
): Promise<RunningMosquitto> {
  const acl = path.join(layout.dir, 'own-topic.acl');
  await writeFile(acl, `pattern readwrite ${prefix}/%u/#\n`);
  return startMosquitto({
    caFile: layout.caCert,
    certFile: layout.serverCert,
    keyFile: layout.serverKey,
    extraConfig: [`acl_file ${acl}`],
  });
}
