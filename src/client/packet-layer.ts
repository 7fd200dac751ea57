/**
 * MQTT.js's packet layer (mqtt-packet), loaded with its debug calls made free. Its parser and
 * writer call `debug()` about 15 times per packet; with debug output off, each call still
 * gathers its arguments and reads a getter before returning, which was 12-14% of the harness's
 * CPU in the fan-out profile (`npm run bench -- --parts fanout --profile DIR`). So before
 * mqtt-packet is first loaded in a thread, the `debug` module it requires is wrapped: for an
 * `mqtt-packet:*` namespace that `DEBUG` does not enable it hands out one empty function;
 * every other namespace, and mqtt-packet's own when `DEBUG` names it, gets the real logger.
 * Everything else about `debug` passes through unchanged (a Proxy). Enabling mqtt-packet's
 * namespaces later from code (`debug.enable`) does not reach loggers already handed out.
 */

import { createRequire } from 'node:module';
import type * as MqttPacket from 'mqtt-packet';

const require = createRequire(import.meta.url);
const packetPath = require.resolve('mqtt-packet');
/** `debug` as mqtt-packet resolves it (its own copy, if it has one). */
const debugPath = createRequire(packetPath).resolve('debug');

type DebugFactory = ((namespace: string) => unknown) & { enabled(namespace: string): boolean };

/** The logger of a silenced namespace: called, does nothing. */
const silent = Object.assign(() => undefined, { enabled: false });

/** Wraps the loaded `debug` module; false when mqtt-packet was already loaded without it. */
function silenceMqttPacketDebug(): boolean {
  if (require.cache[packetPath] !== undefined) return false;
  require(debugPath);
  const entry = require.cache[debugPath];
  if (entry === undefined || typeof entry.exports !== 'function') return false;
  const real = entry.exports as DebugFactory;
  entry.exports = new Proxy(real, {
    apply(target, thisArg, args: unknown[]) {
      const namespace = String(args[0]);
      if (namespace.startsWith('mqtt-packet:') && !target.enabled(namespace)) return silent;
      return Reflect.apply(target, thisArg, args) as unknown;
    },
  });
  return true;
}

/** Whether this thread's mqtt-packet runs with its debug calls silenced. */
export const packetDebugSilenced = silenceMqttPacketDebug();

const mqttPacket = require('mqtt-packet') as typeof MqttPacket;

export const generate = mqttPacket.generate;
export const parser = mqttPacket.parser;
