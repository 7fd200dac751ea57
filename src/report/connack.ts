/**
 * Names of the CONNACK codes a broker refuses a connection with. MQTT 3.1.1 uses 1-5 and MQTT 5
 * uses 128 and up, so one table serves both.
 */

const CONNACK_REASONS: Readonly<Record<number, string>> = {
  1: 'unacceptable protocol version',
  2: 'identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized',
  128: 'unspecified error',
  129: 'malformed packet',
  130: 'protocol error',
  131: 'implementation specific error',
  132: 'unsupported protocol version',
  133: 'client identifier not valid',
  134: 'bad user name or password',
  135: 'not authorized',
  136: 'server unavailable',
  137: 'server busy',
  138: 'banned',
  140: 'bad authentication method',
  144: 'topic name invalid',
  149: 'packet too large',
  151: 'quota exceeded',
  153: 'payload format invalid',
  154: 'retain not supported',
  155: 'QoS not supported',
  156: 'use another server',
  157: 'server moved',
  159: 'connection rate exceeded',
};

/**
 * The name of a CONNACK return code (3.1.1) or reason code (5), e.g. `not authorized` for 135;
 * `undefined` for a code MQTT does not define.
 *
 * @param code the code as a counter key writes it: decimal (`135`) or hex (`0x87`).
 */
export function connackReason(code: string): string | undefined {
  const n = Number(code);
  return Number.isInteger(n) ? CONNACK_REASONS[n] : undefined;
}
