/**
 * A Mosquitto 2 with its own fresh PKI for the tests of one `describe` block: started before
 * them, stopped after them, and a `skip` reason when Mosquitto is not installed.
 */

import { after, before } from 'node:test';
import {
  haveMosquitto,
  startMosquitto,
  type MosquittoOptions,
  type RunningMosquitto,
} from './mosquitto.js';
import { makeTestPki, type TestPki } from './pki.js';

export interface MosquittoSuite {
  /** `false`, or why the tests are skipped: pass it as the test's `skip` option. */
  skip: false | string;
  /** The running broker (inside a test). */
  readonly broker: RunningMosquitto;
  /** The PKI its certificates and the fleet's come from (inside a test). */
  readonly pki: TestPki;
}

/**
 * Registers the hooks of the enclosing `describe` (call it at the top of an async describe).
 * @param extraConfig more Mosquitto config lines (an ACL file, a CRL, ...)
 * @param listeners more listeners beside the mutual-TLS one (`wss`, `tcp`)
 */
export async function mosquittoSuite(
  extraConfig: string[] = [],
  listeners: Pick<MosquittoOptions, 'alsoListen'> = {},
): Promise<MosquittoSuite> {
  const available = await haveMosquitto();
  let pki: TestPki | undefined;
  let broker: RunningMosquitto | undefined;
  before(async () => {
    if (!available) return;
    pki = await makeTestPki();
    const { caCert, serverCert, serverKey } = pki.layout;
    broker = await startMosquitto({
      ...{ caFile: caCert, certFile: serverCert, keyFile: serverKey },
      extraConfig,
      ...listeners,
    });
  });
  after(async () => {
    await broker?.stop();
    await pki?.cleanup();
  });
  return {
    skip: available ? false : 'mosquitto is not installed (.ci/run installs it)',
    get broker() {
      return broker ?? assertNever('broker');
    },
    get pki() {
      return pki ?? assertNever('pki');
    },
  };
}

function assertNever(what: string): never {
  throw new Error(`mosquittoSuite: ${what} used outside a test, or Mosquitto is missing`);
}
