/** The connect options a plan gives every device of a group (all but client id and username). */

import tls from 'node:tls';
import type { Plan } from '../scenario/plan.js';
import { tlsContextOptions } from '../scenario/tls-settings.js';
import { usesTls } from '../scenario/transport.js';
import type { IdentityMaterial } from '../worker/protocol.js';
import type { DeviceConnectOptions } from './device-connection.js';

/** Options shared by a group's devices. */
export type GroupConnectOptions = Omit<DeviceConnectOptions, 'clientId' | 'username'>;

/**
 * A group's connect options: the plan's target, TLS and MQTT settings, and one secure context
 * for its certificate, built here once (about 1 ms of CPU each) and shared by its devices.
 */
export function groupConnectOptions(
  plan: Plan,
  identity: IdentityMaterial | undefined,
): GroupConnectOptions {
  const secureContext =
    usesTls(plan.target.protocol) && identity
      ? tls.createSecureContext({
          ca: identity.ca,
          cert: identity.cert,
          key: identity.key,
          ...tlsContextOptions(plan.tls),
        })
      : undefined;
  return {
    protocol: plan.target.protocol,
    host: plan.target.host,
    port: plan.target.port,
    ...(plan.target.path === undefined
      ? {}
      : { webSocket: { path: plan.target.path, subprotocol: plan.websocket.subprotocol } }),
    secureContext,
    servername: plan.tls.servername ?? plan.target.host,
    insecure: plan.tls.insecure,
    minVersion: plan.tls.minVersion,
    maxVersion: plan.tls.maxVersion,
    mqttVersion: plan.mqtt.version,
    keepaliveSec: plan.mqtt.keepaliveSec,
    clean: plan.mqtt.cleanSession,
    connectTimeoutMs: plan.mqtt.connectTimeoutMs,
  };
}
