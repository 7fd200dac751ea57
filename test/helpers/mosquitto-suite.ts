/**
 * A Mosquitto 2 with its own fresh PKI for the tests of one `describe` block: started before
 * them, stopped after them, and a `skip` reason when Mosquitto is not installed. The own-topic
 * variant adds the ACL platforms use (each device only under its own username) and a fleet.
 */

import { after, before } from 'node:test';

import { initDeviceSet, type DeviceSetResult } from '../../src/fleet/device-set.js';
import {
  haveMosquitto,
  startMosquitto,
  startOwnTopicBroker,
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

export interface OwnTopicFleetSuite extends MosquittoSuite {
  /** The fleet's device set, `dev-0001`, `dev-0002`, ... (inside a test; given `devices`). */
  readonly set: DeviceSetResult;
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
  return suite(async (state, available) => {
    if (!available) return;
    state.pki = await makeTestPki();
    const { caCert, serverCert, serverKey } = state.pki.layout;
    state.broker = await startMosquitto({
      ...{ caFile: caCert, certFile: serverCert, keyFile: serverKey },
      extraConfig,
      ...listeners,
    });
  });
}

/**
 * Registers the hooks of the enclosing `describe`, like {@link mosquittoSuite}, for a broker
 * that takes each device's username from its certificate (`use_identity_as_username`) and lets
 * it use only the topics under it (`pattern readwrite fleet/%u/#`). The PKI and the device set
 * are made even without Mosquitto, for tests of the block that run on the embedded broker.
 * @param devices the size of the device set `certs init --devices` writes; default none
 */
export async function ownTopicFleetSuite(devices?: number): Promise<OwnTopicFleetSuite> {
  return suite(async (state, available) => {
    state.pki = await makeTestPki();
    if (devices !== undefined) {
      state.set = await initDeviceSet({ dir: state.pki.dir, devices, idTemplate: 'dev-{i:04}' });
    }
    if (available) state.broker = await startOwnTopicBroker(state.pki.layout, 'fleet');
  });
}

interface SuiteState {
  pki?: TestPki;
  broker?: RunningMosquitto;
  set?: DeviceSetResult;
}

/** The hooks both suites share: `setUp` fills the state before the tests, `after` ends it. */
async function suite(
  setUp: (state: SuiteState, available: boolean) => Promise<void>,
): Promise<OwnTopicFleetSuite> {
  const available = await haveMosquitto();
  const state: SuiteState = {};
  before(() => setUp(state, available));
  after(async () => {
    await state.broker?.stop();
    await state.pki?.cleanup();
  });
  return {
    skip: available ? false : 'mosquitto is not installed (.ci/run installs it)',
    get broker() {
      return state.broker ?? assertNever('broker');
    },
    get pki() {
      return state.pki ?? assertNever('pki');
    },
    get set() {
      return state.set ?? assertNever('set');
    },
  };
}

function assertNever(what: string): never {
  throw new Error(
    `mosquitto suite: ${what} used outside a test, or not made (Mosquitto missing, no devices)`,
  );
}
