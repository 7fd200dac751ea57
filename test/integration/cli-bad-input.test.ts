/**
 * Every kind of bad input through the real CLI: the exit code a script sees and the message a
 * person reads (the README's troubleshooting table shows these). The finer points of each
 * message are unit-tested with the loaders (scenario-load, fleet-identity-files).
 */

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createCa, issueDeviceCert, issueServerCert } from '../../src/fleet/pki.js';
import { runCliWith, useCliWorkspace, type CliExit } from '../helpers/cli.js';
import {
  freePort,
  haveMosquitto,
  startMosquitto,
  type RunningMosquitto,
} from '../helpers/mosquitto.js';

const ws = useCliWorkspace('badinput');

/** A scenario that would run for a second, if it got past the checks. */
const BASE = { name: 'bad', devices: 4, workers: 1, durationSec: 1, drainMs: 100 };

/** Runs `fleetbench run` on `scenario` (an object, or YAML text) and returns how it ended. */
async function run(name: string, scenario: object | string, shellPrefix?: string) {
  const { args, out } = await ws.runArgs({}, name);
  if (typeof scenario === 'string') await writeFile(args[1] ?? '', scenario);
  else await writeFile(args[1] ?? '', JSON.stringify(scenario));
  const exit = await runCliWith(args, shellPrefix === undefined ? {} : { shellPrefix }, 60_000);
  return { ...exit, out };
}

/** What every refused input shares: the exit code, no summary, a hint. */
function assertRefused(exit: CliExit, code: number, message: RegExp): void {
  assert.equal(exit.code, code, exit.stderr);
  assert.match(exit.stderr, message);
  assert.match(exit.stderr, /\nhint: \S/);
  assert.equal(exit.stdout, '', 'nothing ran, so no summary');
}

describe('bad scenario files: exit 2, each problem with its path', () => {
  test('malformed YAML names the line and column', async () => {
    const exit = await run('yaml', 'name: y\ndevices: [1, 2\nworkers: 1\n');
    assertRefused(exit, 2, /yaml\.json is not valid YAML or JSON\n {2}- line \d+, column \d+: /);
  });

  test('an unknown key', async () => {
    const exit = await run('unknown', { ...BASE, conect: { ratePerSec: 5 } });
    assertRefused(exit, 2, /- conect is not a known setting in .*unknown\.json/);
  });

  test('a wrong type', async () => {
    const exit = await run('type', { ...BASE, devices: 'many' });
    assertRefused(exit, 2, /- devices: .* \(got "many"\) in /);
  });

  test('zero and negative rates, all reported at once', async () => {
    const exit = await run('rates', {
      ...BASE,
      connect: { ratePerSec: 0 },
      traffic: { intervalMs: -5 },
    });
    assertRefused(exit, 2, /2 problems/);
    assert.match(exit.stderr, /- connect\.ratePerSec: .*\(got 0\)/);
    assert.match(exit.stderr, /- traffic\.intervalMs: .*\(got -5\)/);
  });
});

describe('bad certificates: exit 4, naming the setting and the file', () => {
  let expired: { ca: string; cert: string; key: string };
  before(async () => {
    // A CA that expired in 2021, and a device it signed then.
    const validity = { notBefore: new Date('2020-01-01Z'), notAfter: new Date('2021-01-01Z') };
    const ca = await createCa({ commonName: 'expired CA', ...validity });
    const device = await issueDeviceCert(ca.ca, { deviceId: 'd', ...validity });
    expired = {
      ca: path.join(ws.dir, 'expired-ca.crt'),
      cert: path.join(ws.dir, 'expired-device.crt'),
      key: path.join(ws.dir, 'expired-device.key'),
    };
    await writeFile(expired.ca, ca.certPem);
    await writeFile(expired.cert, device.certPem);
    await writeFile(expired.key, device.keyPem, { mode: 0o600 });
  });

  test('a missing certificate file', async () => {
    const missing = path.join(ws.dir, 'nope.crt');
    const identity = { ca: ws.pki.layout.caCert, cert: missing, key: ws.pki.layout.deviceKey };
    const exit = await run('missing', { ...BASE, identity });
    assertRefused(exit, 4, new RegExp(`- identity\\.cert: ${missing} does not exist \\(set in `));
  });

  test('a key that does not match its certificate', async () => {
    const { caCert, deviceCert, serverKey } = ws.pki.layout;
    const exit = await run('mismatch', {
      ...BASE,
      identity: { ca: caCert, cert: deviceCert, key: serverKey },
    });
    assertRefused(exit, 4, new RegExp(`- identity\\.key: ${serverKey} is not the key of `));
  });

  test('an expired CA', async () => {
    const exit = await run('expired', { ...BASE, identity: expired });
    assertRefused(
      exit,
      4,
      /- identity\.ca: .*expired-ca\.crt certificate CN=expired CA expired on/,
    );
  });
});

describe('bad targets: exit 4 before any device connects', async () => {
  const available = await haveMosquitto();
  let plainMosquitto: RunningMosquitto | undefined;
  let strangerMosquitto: RunningMosquitto | undefined;
  let otherProtocol: net.Server;
  const sockets = new Set<net.Socket>();
  before(async () => {
    if (available) {
      plainMosquitto = await startMosquitto({ caFile: '', certFile: '', keyFile: '', plain: true });
      // A broker whose own certificate comes from a CA the devices were not told to trust.
      const stranger = await createCa({ commonName: 'stranger CA' });
      const server = await issueServerCert(stranger.ca);
      const certFile = path.join(ws.dir, 'stranger-server.crt');
      const keyFile = path.join(ws.dir, 'stranger-server.key');
      await writeFile(certFile, server.certPem);
      await writeFile(keyFile, server.keyPem, { mode: 0o600 });
      strangerMosquitto = await startMosquitto({ caFile: ws.pki.layout.caCert, certFile, keyFile });
    }
    // A port that speaks something else (here: an HTTP-like text answer).
    otherProtocol = net.createServer((s) => {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
      s.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    });
    await new Promise<void>((resolve) => otherProtocol.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    await plainMosquitto?.stop();
    await strangerMosquitto?.stop();
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => otherProtocol.close(resolve));
  });
  const target = (url: string) => ({ ...BASE, target: url });

  test('an unreachable host (a closed loopback port)', async () => {
    const port = await freePort();
    const exit = await run('closed', target(`mqtts://127.0.0.1:${port}`));
    assertRefused(
      exit,
      4,
      new RegExp(`nothing accepts connections at 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`),
    );
  });

  test(
    'a plain MQTT port (Mosquitto without TLS) given as TLS',
    { skip: available ? false : 'mosquitto is not installed (.ci/run installs it)' },
    async () => {
      const port = (plainMosquitto as RunningMosquitto).port;
      const exit = await run('plain', target(`mqtts://127.0.0.1:${port}`));
      assertRefused(exit, 4, new RegExp(`127\\.0\\.0\\.1:${port} does not speak TLS: the conn`));
      assert.match(exit.stderr, /hint: is it a plain MQTT port \(usually 1883\)\?/);
    },
  );

  test(
    'a broker certificate the CA does not vouch for',
    { skip: available ? false : 'mosquitto is not installed (.ci/run installs it)' },
    async () => {
      const port = (strangerMosquitto as RunningMosquitto).port;
      const exit = await run('stranger', target(`mqtts://127.0.0.1:${port}`));
      const at = `127\\.0\\.0\\.1:${port}`;
      assertRefused(exit, 4, new RegExp(`the broker's certificate at ${at} is not trusted: `));
      assert.match(exit.stderr, /hint: identity\.ca \(.*root_ca\.crt\) must hold the CA that/);
    },
  );

  test('a port that answers in another protocol', async () => {
    const port = (otherProtocol.address() as net.AddressInfo).port;
    const exit = await run('other', target(`mqtts://127.0.0.1:${port}`));
    assertRefused(exit, 4, new RegExp(`127\\.0\\.0\\.1:${port} does not speak TLS: `));
    assert.match(exit.stderr, /ERR_SSL_WRONG_VERSION_NUMBER/);
  });

  test('a host name that does not resolve (.invalid, RFC 6761)', async () => {
    const exit = await run('dns', target('mqtts://broker.invalid:8883'));
    assertRefused(
      exit,
      4,
      /cannot resolve the target host "broker\.invalid" \((ENOTFOUND|EAI_AGAIN)\)/,
    );
  });
});

describe('an open-file limit below the fleet size', () => {
  test('is refused before the run, with the numbers: exit 4', async () => {
    const exit = await run('fds', { ...BASE, devices: 300 }, 'ulimit -n 256;');
    assertRefused(exit, 4, /300 devices need about 700 open files .* may open 256 \(ulimit -n\)/);
    assert.match(exit.stderr, /split the fleet across processes: --local-shards 2 on this machine/);
  });
});
