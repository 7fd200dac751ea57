/**
 * The little DER (ASN.1 distinguished encoding) that fleet-scale certificate work needs:
 * writing a device certificate's fields and walking a certificate or key to the few fields a
 * preflight checks. The general ASN.1 libraries (@peculiar/asn1-schema, asn1js) take 140-550 µs
 * to parse one certificate on this machine; a fleet of 100,000 needs a few µs each, so this
 * handles only definite-length DER and leaves anything unusual to Node's own X509Certificate.
 */

/** ASN.1 tags used by certificates and keys. */
export const Tag = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

/** One tag-length-value element inside a buffer: content is `buf[start, end)`. */
export interface Tlv {
  tag: number;
  /** Offset of the tag byte. */
  offset: number;
  /** Offset of the first content byte. */
  start: number;
  /** Offset just past the last content byte. */
  end: number;
}

/** Encodes one element: the tag, the definite length and the concatenated contents. */
export function tlv(tag: number, ...contents: Uint8Array[]): Buffer {
  const body = contents.length === 1 ? (contents[0] as Uint8Array) : Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), encodeLength(body.length), body]);
}

/** SEQUENCE of the given encoded elements. */
export function sequence(...elements: Uint8Array[]): Buffer {
  return tlv(Tag.sequence, ...elements);
}

/** A context-specific constructed tag `[n]` around encoded elements (EXPLICIT tagging). */
export function explicit(n: number, ...elements: Uint8Array[]): Buffer {
  return tlv(0xa0 | n, ...elements);
}

/** A positive INTEGER from big-endian magnitude bytes (a 0x00 is added when the top bit is set). */
export function unsignedInteger(magnitude: Uint8Array): Buffer {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const trimmed = magnitude.subarray(i);
  const pad = (trimmed[0] ?? 0) & 0x80 ? Buffer.from([0]) : Buffer.alloc(0);
  return tlv(Tag.integer, pad, trimmed);
}

/** An OBJECT IDENTIFIER from its dotted form, e.g. `2.5.4.3`. */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const bytes: number[] = [(arcs[0] ?? 0) * 40 + (arcs[1] ?? 0)];
  for (const arc of arcs.slice(2)) {
    const chunk: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128))
      chunk.unshift(0x80 | (v & 0x7f));
    bytes.push(...chunk);
  }
  return tlv(Tag.oid, Buffer.from(bytes));
}

/** A BIT STRING with no unused bits. */
export function bitString(bytes: Uint8Array): Buffer {
  return tlv(Tag.bitString, Buffer.from([0]), bytes);
}

/** A time as RFC 5280 wants it: UTCTime through 2049, GeneralizedTime from 2050. */
export function time(date: Date): Buffer {
  const iso = date.toISOString(); // 2026-12-03T23:57:30.000Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  const year = date.getUTCFullYear();
  if (year >= 1950 && year < 2050) return tlv(Tag.utcTime, Buffer.from(`${digits.slice(2)}Z`));
  return tlv(Tag.generalizedTime, Buffer.from(`${digits}Z`));
}

function encodeLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** Thrown for anything that is not the DER this module reads; callers fall back or report. */
export class DerError extends Error {}

/** Reads the element at `offset`. Throws DerError when it does not fit inside `limit`. */
export function readTlv(buf: Uint8Array, offset: number, limit = buf.length): Tlv {
  const tag = buf[offset];
  const first = buf[offset + 1];
  if (tag === undefined || first === undefined || (tag & 0x1f) === 0x1f) {
    throw new DerError(`bad element at ${offset}`);
  }
  let start = offset + 2;
  let length = first;
  if (first & 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 4) throw new DerError(`bad length at ${offset}`);
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (buf[start + i] ?? 0);
    start += count;
  }
  const end = start + length;
  if (end > limit) throw new DerError(`element at ${offset} overruns its container`);
  return { tag, offset, start, end };
}

/** The elements directly inside a constructed element. */
export function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.start; at < parent.end;) {
    const child = readTlv(buf, at, parent.end);
    out.push(child);
    at = child.end;
  }
  return out;
}

/** The element's content bytes (a view, not a copy). */
export function content(buf: Uint8Array, el: Tlv): Uint8Array {
  return buf.subarray(el.start, el.end);
}

/** The whole element, tag and length included (a view, not a copy). */
export function whole(buf: Uint8Array, el: Tlv): Uint8Array {
  return buf.subarray(el.offset, el.end);
}

/** Decodes an OBJECT IDENTIFIER element to its dotted form. */
export function readOid(buf: Uint8Array, el: Tlv): string {
  if (el.tag !== Tag.oid) throw new DerError('expected an OBJECT IDENTIFIER');
  const bytes = content(buf, el);
  const first = bytes[0] ?? 0;
  const arcs = [
    Math.min(2, Math.floor(first / 40)),
    first - Math.min(2, Math.floor(first / 40)) * 40,
  ];
  let value = 0;
  for (const b of bytes.subarray(1)) {
    value = value * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      arcs.push(value);
      value = 0;
    }
  }
  return arcs.join('.');
}

/** Decodes a UTCTime or GeneralizedTime element (the `Z` forms DER requires). */
export function readTime(buf: Uint8Array, el: Tlv): Date {
  const text = Buffer.from(content(buf, el)).toString('latin1');
  const m =
    el.tag === Tag.utcTime
      ? /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(text)
      : /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(text);
  if (!m || (el.tag !== Tag.utcTime && el.tag !== Tag.generalizedTime)) {
    throw new DerError(`bad time "${text}"`);
  }
  const y = Number(m[1]);
  const year = el.tag === Tag.utcTime ? (y < 50 ? 2000 + y : 1900 + y) : y;
  const [mo, d, h, mi, s] = m.slice(2).map(Number) as [number, number, number, number, number];
  return new Date(Date.UTC(year, mo - 1, d, h, mi, s));
}

/** PEM blocks of one label (`CERTIFICATE`, `PRIVATE KEY`, ...) decoded to DER, in file order. */
export function pemBlocks(text: string, label: string): Buffer[] {
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`, 'g');
  return [...text.matchAll(re)].map((m) => Buffer.from(m[1] ?? '', 'base64'));
}

/** DER as PEM with 64-column lines and a final newline. */
export function toPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString('base64');
  let body = '';
  for (let i = 0; i < b64.length; i += 64) body += `${b64.slice(i, i + 64)}\n`;
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}
