/**
 * The broker-name check of fleetbench's TLS sockets against Node's own: the socket answers
 * the check's request for the peer chain with the leaf alone (open-socket.ts), so every pair
 * of certificate names and checked name here is connected both ways, over a real TLS server
 * on loopback, and must be accepted or refused alike.
 */

import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import tls from 'node:tls';

import { openSocket } from '../../src/client/open-socket.js';
import { createCa, issueServerCert, type ServerCertOptions } from '../../src/fleet/pki.js';

/** How a connect ended: 'ok', or the error's code. */
async function outcome(socket: tls.TLSSocket): Promise<string> {
  const result = await new Promise<string>((resolve) => {
    socket.once('secureConnect', () => resolve('ok'));
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
  socket.destroy();
  return result;
}

/** A TLS server on 127.0.0.1 presenting a certificate with the given names. */
async function serverWith(names: ServerCertOptions) {
  const { ca, certPem: caPem } = await createCa();
  const leaf = await issueServerCert(ca, names);
  const server = tls.createServer({ cert: leaf.certPem, key: leaf.keyPem }, (s) => s.end());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const context = tls.createSecureContext({ ca: caPem });
  return { server, port, context };
}

const CASES: { names: ServerCertOptions; checked: string[] }[] = [
  {
    names: { commonName: 'localhost', dnsNames: ['localhost', '*.broker.test'] },
    checked: [
      'localhost',
      'a.broker.test',
      'broker.test',
      'a.b.broker.test',
      'other',
      '127.0.0.1',
      '127.0.0.2',
    ],
  },
  {
    // No DNS name: a host name is matched on the subject's CN, by Node's own full path.
    names: { commonName: 'cn-only.test', dnsNames: [], ipAddresses: ['127.0.0.1'] },
    checked: ['cn-only.test', 'other.test', '127.0.0.1', '::1'],
  },
  {
    // The CN is never consulted once a DNS name is present.
    names: { commonName: 'cn.test', dnsNames: ['dns.test'], ipAddresses: [] },
    checked: ['dns.test', 'cn.test', '127.0.0.1'],
  },
];

for (const { names, checked } of CASES) {
  const title = `broker names ${JSON.stringify(names)}: accepted and refused as Node's check`;
  test(title, async () => {
    const { server, port, context } = await serverWith(names);
    try {
      const seen: string[] = [];
      for (const servername of checked) {
        const ours = await outcome(
          openSocket({
            protocol: 'mqtts',
            host: '127.0.0.1',
            port,
            secureContext: context,
            servername,
            insecure: false,
            minVersion: 'TLSv1.2',
            maxVersion: 'TLSv1.3',
          }) as tls.TLSSocket,
        );
        const node = await outcome(
          tls.connect({
            host: '127.0.0.1',
            port,
            secureContext: context,
            servername:
              servername.includes(':') || /^[\d.]+$/.test(servername) ? undefined : servername,
            checkServerIdentity: (_h, cert) => tls.checkServerIdentity(servername, cert),
          }),
        );
        assert.equal(ours, node, `${servername}: fleetbench ${ours}, node:tls ${node}`);
        seen.push(ours);
      }
      // Each case has names that pass and names that do not: the comparison is not vacuous.
      assert.ok(seen.includes('ok'), 'some name passes');
      assert.ok(seen.includes('ERR_TLS_CERT_ALTNAME_INVALID'), 'some name is refused');
    } finally {
      server.close();
    }
  });
}

test('after the handshake, the socket answers getPeerCertificate with the leaf', async () => {
  const { server, port, context } = await serverWith({ commonName: 'localhost' });
  try {
    const socket = openSocket({
      protocol: 'mqtts',
      host: '127.0.0.1',
      port,
      secureContext: context,
      servername: 'localhost',
      insecure: false,
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.3',
    }) as tls.TLSSocket;
    await once(socket, 'secureConnect');
    for (const detailed of [false, true]) {
      const leaf = socket.getPeerCertificate(detailed);
      assert.equal(leaf.subject.CN, 'localhost');
      assert.match(leaf.subjectaltname ?? '', /DNS:localhost/);
    }
    socket.destroy();
  } finally {
    server.close();
  }
});
