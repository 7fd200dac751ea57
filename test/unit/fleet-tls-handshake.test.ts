import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import tls from 'node:tls';

import { loadTlsIdentity, type TlsIdentity } from '../../src/fleet/identity-files.js';
import type { KeyAlgorithm } from '../../src/fleet/pki.js';
import { makeTestPki, type TestPki } from '../helpers/pki.js';

interface HandshakeOutcome {
  /** CN of the client certificate the server saw. */
  clientCn?: string;
  /** Whether the server's OpenSSL verified the client certificate against the CA. */
  authorized?: boolean;
  /** OpenSSL's verification error code when not authorized. */
  authorizationError?: string;
  /** Error the client saw, e.g. when the server certificate did not verify. */
  clientError?: string;
}

/**
 * One mutual-TLS handshake on loopback with the layout's server identity, as the embedded
 * broker will do it, without MQTT. The server does not reject by itself: Node then only
 * destroys the socket ("socket hang up") and hides the reason, which is what we assert on.
 */
async function handshake(
  pki: TestPki,
  client: TlsIdentity,
  host: string,
): Promise<HandshakeOutcome> {
  const server = await loadTlsIdentity({
    caFile: pki.layout.caCert,
    certFile: pki.layout.serverCert,
    keyFile: pki.layout.serverKey,
  });
  const outcome: HandshakeOutcome = {};
  const tlsServer = tls.createServer({
    ca: server.ca,
    cert: server.cert,
    key: server.key,
    requestCert: true,
    rejectUnauthorized: false,
  });
  tlsServer.on('secureConnection', (socket) => {
    outcome.clientCn = String(socket.getPeerCertificate().subject.CN);
    outcome.authorized = socket.authorized;
    if (socket.authorizationError) outcome.authorizationError = String(socket.authorizationError);
    socket.end();
  });
  tlsServer.listen(0, host);
  await once(tlsServer, 'listening');

  try {
    const { port } = tlsServer.address() as AddressInfo;
    const socket = tls.connect({ host, port, servername: 'localhost', ...client });
    socket.on('error', (err: Error) => {
      outcome.clientError = err.message;
    });
    socket.resume();
    await once(socket, 'close');
  } finally {
    tlsServer.close();
  }
  return outcome;
}

for (const algorithm of ['ec', 'rsa'] as KeyAlgorithm[]) {
  test(`${algorithm}: the shared device passes mutual TLS over IPv4 and IPv6`, async () => {
    const pki = await makeTestPki({ algorithm });
    try {
      const device = await loadTlsIdentity(pki.device);

      for (const host of ['127.0.0.1', '::1']) {
        const outcome = await handshake(pki, device, host);
        assert.deepEqual(outcome, { clientCn: 'fleetbench-device', authorized: true }, host);
      }
    } finally {
      await pki.cleanup();
    }
  });
}

test('a device from another CA is refused by the server', async () => {
  const pki = await makeTestPki();
  try {
    const foreign = await loadTlsIdentity({
      ...pki.foreign,
      caFile: pki.layout.caCert,
      checkChain: false,
    });

    const outcome = await handshake(pki, foreign, '127.0.0.1');

    assert.equal(outcome.clientCn, 'foreign-device');
    assert.equal(outcome.authorized, false);
    assert.match(outcome.authorizationError ?? '', /UNABLE_TO_(GET_ISSUER_CERT|VERIFY_LEAF)/);
  } finally {
    await pki.cleanup();
  }
});
