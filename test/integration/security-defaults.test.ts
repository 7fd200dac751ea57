/**
 * The security defaults, checked on real runs of the CLI: private keys are written 0600 and
 * never reach stderr, stdout or a report; passwords are redacted from reports; the embedded
 * broker listens on loopback only; `tls.insecure` is warned about and recorded.
 */

import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { startBrokerThread } from '../../src/broker/broker-thread.js';
import { onlyReport, runCliWith, useCliWorkspace } from '../helpers/cli.js';

const ws = useCliWorkspace('security');

const RUN = {
  name: 'security',
  devices: 20,
  workers: 2,
  connect: { ratePerSec: 200 },
  traffic: { qos: 1, intervalMs: 250, payloadBytes: 32 },
  durationSec: 1,
  drainMs: 500,
};

/** The base64 body lines of every PEM private key in `dir` (what a leak would contain). */
async function keyLines(dir: string): Promise<string[]> {
  const keys = (await readdir(dir)).filter((f) => f.endsWith('.key'));
  assert.ok(keys.length >= 3, `keys in ${dir}: ${keys.join(', ')}`);
  const lines: string[] = [];
  for (const k of keys) {
    const text = await readFile(path.join(dir, k), 'utf8');
    lines.push(...text.split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----')));
  }
  return lines;
}

function assertNoKeyMaterial(text: string, lines: string[], where: string): void {
  assert.doesNotMatch(text, /PRIVATE KEY/, `${where} holds a PEM key marker`);
  for (const line of lines) assert.ok(!text.includes(line), `${where} holds key bytes`);
}

/** The listening TCP sockets of this machine on `port`, as [address hex, port] from /proc. */
async function listeners(port: number): Promise<string[]> {
  const rows: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state !== '0A' || local === undefined) continue; // 0A: LISTEN
      const [address, portHex] = local.split(':');
      if (Number.parseInt(portHex ?? '', 16) === port && address) rows.push(address);
    }
  }
  return rows;
}

describe('security defaults', () => {
  test('fresh certs: keys 0600, and no key byte on stderr, stdout or in the report', async () => {
    const certs = path.join(ws.dir, 'fresh-certs');
    const { args, out } = await ws.runArgs(RUN, 'keys');
    const withCerts = [...args.slice(0, -1), certs];
    const text = await runCliWith(withCerts);
    const json = await runCliWith([...withCerts, '--json']);
    assert.equal(text.code, 0, text.stderr);
    assert.equal(json.code, 0, json.stderr);
    assert.match(text.stderr, /generated a CA and certificates in /);

    for (const f of (await readdir(certs)).filter((n) => n.endsWith('.key'))) {
      assert.equal((await stat(path.join(certs, f))).mode & 0o777, 0o600, f);
    }
    const lines = await keyLines(certs);
    assertNoKeyMaterial(text.stderr + json.stderr, lines, 'stderr');
    assertNoKeyMaterial(text.stdout + json.stdout, lines, 'stdout (summary and --json report)');
    for (const f of await readdir(out)) {
      assertNoKeyMaterial(await readFile(path.join(out, f), 'utf8'), lines, f);
    }
  });

  test('a bad key is reported without its bytes', async () => {
    const { caCert, deviceCert, serverKey } = ws.pki.layout;
    const identity = { ca: caCert, cert: deviceCert, key: serverKey };
    const { args } = await ws.runArgs({ ...RUN, identity }, 'badkey');
    const exit = await runCliWith(args);
    assert.equal(exit.code, 4, exit.stderr);
    assertNoKeyMaterial(exit.stderr + exit.stdout, await keyLines(ws.pki.dir), 'the error');
  });

  test('tls.insecure is printed as a warning and recorded in the report', async () => {
    const { args, out } = await ws.runArgs({ ...RUN, tls: { insecure: true } }, 'insecure');
    const exit = await runCliWith(args);
    assert.equal(exit.code, 0, exit.stderr);
    assert.match(exit.stderr, /^warning: tls\.insecure is set: /m);
    assert.match(exit.stdout, /warning: tls\.insecure is set/);
    const report = await onlyReport(out);
    assert.ok(report.warnings.some((w) => w.startsWith('tls.insecure is set')));
    assert.equal((report.options.tls as { insecure?: boolean }).insecure, true);
  });

  test('the embedded broker listens on loopback only', async () => {
    const { caCert, serverCert, serverKey } = ws.pki.layout;
    const broker = await startBrokerThread({
      caFile: caCert,
      certFile: serverCert,
      keyFile: serverKey,
    });
    try {
      assert.equal(broker.host, '127.0.0.1');
      // What the kernel says is listening on that port: 127.0.0.1 only, no wildcard.
      assert.deepEqual(await listeners(broker.port), ['0100007F']);
    } finally {
      await broker.close();
    }
  });
});
