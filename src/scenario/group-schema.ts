/**
 * The keys of a group that say what its devices do (its behaviour) and how their MQTT session
 * looks: QoS, retain, payload, clean session, session expiry, keepalive, last will and user
 * properties. Spread into the group schema (schema.ts); resolved by group-behaviour.ts.
 */

import { z } from 'zod';

/** A QoS level. */
export const QosSchema = z.union([z.literal(0), z.literal(1), z.literal(2)], {
  error: 'must be 0, 1 or 2',
});

/** What a group's devices do. */
export const BEHAVIOURS = ['telemetry', 'commands', 'controller', 'monitor'] as const;
export type Behaviour = (typeof BEHAVIOURS)[number];

/** The default topic command receivers subscribe to, rendered for each receiver. */
export const DEFAULT_COMMAND_TOPIC = 'fleetbench/{deviceId}/commands';
/** The default topic a receiver answers on; the controller subscribes to its own part of it. */
export const DEFAULT_RESPONSE_TOPIC = 'fleetbench/{controllerId}/responses/{deviceId}';
/** The default payload of a last will (a template). */
export const DEFAULT_WILL_PAYLOAD = '{"deviceId":"{deviceId}","status":"offline"}';

const WillSchema = z.strictObject({
  /** Topic template the broker publishes the will to; same placeholders as `topic`. */
  topic: z.string().min(1),
  /** Payload template (text). Default `{"deviceId":"{deviceId}","status":"offline"}`. */
  payload: z.string().max(65_536).default(DEFAULT_WILL_PAYLOAD),
  /** QoS of the will. Default 1. */
  qos: QosSchema.default(1),
  /** Whether the broker retains the will. Default false. */
  retain: z.boolean().default(false),
});

const CommandsSchema = z.strictObject({
  /** Topic template each receiver subscribes to for its commands. */
  topic: z.string().min(1).default(DEFAULT_COMMAND_TOPIC),
  /**
   * Topic template a receiver publishes its response to; `{controllerId}` is the commanding
   * controller's client id. The receiver's own placeholders must fill whole topic levels: the
   * controller subscribes with `+` in their place.
   */
  responseTopic: z.string().min(1).default(DEFAULT_RESPONSE_TOPIC),
});

const ControllerSchema = z.strictObject({
  /** Names of the `commands` groups this controller group commands. Default: all of them. */
  receivers: z.array(z.string().min(1)).min(1).max(64).optional(),
  /** Commands per second sent by each controller client, each to its next receiver. Default 10. */
  ratePerSec: z.number().positive().max(100_000).default(10),
});

const MonitorSchema = z.strictObject({
  /**
   * Topic filters (wildcards allowed) the monitor subscribes to. Default: the telemetry groups'
   * topics with every placeholder replaced by `+`, and likewise the groups' will topics.
   */
  filters: z.array(z.string().min(1)).min(1).max(16).optional(),
});

/** The behaviour and session keys of a group (spread into its schema). */
export const GroupBehaviourFields = {
  /**
   * `telemetry` (default): publish to the own topic and receive it back. `commands`: answer
   * the commands a controller sends. `controller`: send commands to receivers and time the
   * round trip. `monitor`: subscribe to wildcards over many devices' traffic (fan-in).
   */
  behaviour: z.enum(BEHAVIOURS).default('telemetry'),
  /** Telemetry topic template of the group. Default: `traffic.topic`. */
  topic: z.string().min(1).optional(),
  /** QoS of the group's publishes and subscriptions. Default: `traffic.qos`. */
  qos: QosSchema.optional(),
  /** Publish retained messages. Default false. */
  retain: z.boolean().default(false),
  /** Payload size, bytes. Default: `traffic.payloadBytes`. */
  payloadBytes: z.int().min(16).max(268_435_455).optional(),
  /**
   * JSON payload template (an object); may use the device's placeholders plus `{seq}` and
   * `{ts}` (send time, ms since the epoch). fleetbench adds its own first field `"fb"`.
   */
  payloadTemplate: z.string().min(2).max(65_536).optional(),
  /** Clean session (3.1.1) or clean start (5). Default: `mqtt.cleanSession`. */
  cleanSession: z.boolean().optional(),
  /** MQTT 5: session expiry interval, s. Default: none (the session ends with the connection). */
  sessionExpirySec: z.int().min(0).max(4_294_967_295).optional(),
  /** Keep-alive interval, s. Default: `mqtt.keepaliveSec`. */
  keepaliveSec: z.int().min(0).max(65_535).optional(),
  /** Last will, published by the broker when a device's connection ends without DISCONNECT. */
  will: WillSchema.optional(),
  /** MQTT 5: user properties sent on CONNECT and on every publish. At most 32. */
  userProperties: z.record(z.string().min(1).max(256), z.string().max(1024)).optional(),
  /** `commands` groups: the topics of commands and responses. */
  commands: CommandsSchema.optional(),
  /** `controller` groups: whom to command and how often. */
  controller: ControllerSchema.optional(),
  /** `monitor` groups: what to subscribe to. */
  monitor: MonitorSchema.optional(),
};
