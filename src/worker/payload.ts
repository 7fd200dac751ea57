/**
 * Message payloads: the binary header fleetbench's accounting needs (sequence number, device,
 * send instant, ...) padded to a size, or a JSON object from a template with that header as
 * its first field, `"fb":"<hex>"`, so the receiving side finds it at a fixed offset without
 * parsing the JSON.
 */

import { compileTemplate, type Template } from '../scenario/template.js';
import { PAYLOAD_PLACEHOLDERS } from '../scenario/group-behaviour.js';

/** How a JSON payload starts; the header's hex digits follow. */
const JSON_MARK = Buffer.from('{"fb":"', 'latin1');
const QUOTE = 0x22;

/** Values a payload template is rendered with (strings already JSON-escaped). */
export type PayloadValues = Readonly<Record<string, string | number>>;

/** One group's payloads. */
export class PayloadFormat {
  /** Everything after the header's hex digits; null for binary payloads. */
  private readonly rest: Template | null;

  /**
   * @param bytes size of a binary payload, bytes (at least the header)
   * @param template a JSON object template, or null for binary payloads
   */
  constructor(
    private readonly bytes: number,
    template: string | null,
  ) {
    if (template === null) {
      this.rest = null;
      return;
    }
    const body = template.trim().slice(1);
    const empty = body.trim() === '}';
    this.rest = compileTemplate(
      (empty ? '"' : '",') + body,
      PAYLOAD_PLACEHOLDERS,
      'payloadTemplate',
      'literal',
    );
  }

  /** Whether payloads are rendered from a template (and need `values`). */
  get templated(): boolean {
    return this.rest !== null;
  }

  /** A zeroed buffer to write a header of `headerBytes` into at offset 0. */
  header(headerBytes: number): Buffer {
    return Buffer.alloc(this.rest === null ? Math.max(this.bytes, headerBytes) : headerBytes);
  }

  /** The payload: the header buffer itself (binary), or the JSON object around it. */
  finish(header: Buffer, values: () => PayloadValues): Buffer {
    if (this.rest === null) return header;
    const text = `{"fb":"${header.toString('hex')}${this.rest.render(values())}`;
    return Buffer.from(text, 'utf8');
  }
}

/**
 * The header of a received payload: the payload itself when binary, the decoded `"fb"` field
 * of a JSON one.
 */
export function headerOf(payload: Buffer): Buffer {
  if (payload.length < JSON_MARK.length || payload.compare(JSON_MARK, 0, 7, 0, 7) !== 0) {
    return payload;
  }
  const end = payload.indexOf(QUOTE, JSON_MARK.length);
  if (end < 0) return payload;
  return Buffer.from(payload.toString('latin1', JSON_MARK.length, end), 'hex');
}

/** A device's values for payload templates: its strings JSON-escaped. */
export function jsonValues(
  values: Readonly<Record<string, string | number>>,
): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(values)) {
    out[k] = typeof v === 'string' ? JSON.stringify(v).slice(1, -1) : v;
  }
  return out;
}
