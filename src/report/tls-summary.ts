/**
 * The TLS part of a report, read from its counters: how many handshakes were full and how many
 * resumed a device's own session, and which protocols, ciphers and groups were negotiated.
 * The counters merge across workers and shards like any other, so this holds for a merged
 * report too.
 */

import type { Counters } from '../metrics/types.js';

/** One negotiated value and how many handshakes got it. */
export interface Negotiated {
  name: string;
  count: number;
}

/** The report's TLS handshakes, or null when the run made none (plain TCP, nothing connected). */
export interface TlsSummary {
  full: number;
  resumed: number;
  /** `TLSv1.3`, ... (most frequent first). */
  protocols: Negotiated[];
  ciphers: Negotiated[];
  /** Key-exchange groups; a resumed TLS 1.2 handshake has none. */
  groups: Negotiated[];
}

/** The TLS summary of a report's counters. */
export function tlsSummary(c: Counters): TlsSummary | null {
  const full = c['tls.full'] ?? 0;
  const resumed = c['tls.resumed'] ?? 0;
  if (full + resumed === 0) return null;
  return {
    full,
    resumed,
    // Counter keys carry `TLSv1_3` (a dot would split the key); shown as the protocol's name.
    protocols: family(c, 'tls.protocol.').map((n) => ({
      ...n,
      name: n.name.replace(/^TLSv(\d)_(\d)$/, 'TLSv$1.$2'),
    })),
    ciphers: family(c, 'tls.cipher.'),
    groups: family(c, 'tls.group.'),
  };
}

/**
 * The summary as lines of text: `TLS handshakes: 500 full, 500 resumed (50.0%)` and
 * `negotiated: TLSv1.3 ×1000 · TLS_AES_256_GCM_SHA384 ×1000 · X25519 ×1000`.
 */
export function tlsSummaryLines(s: TlsSummary, formatCount: (n: number) => string): string[] {
  const total = s.full + s.resumed;
  const share = `${((100 * s.resumed) / total).toFixed(1)}%`;
  const shown = (list: Negotiated[]) =>
    list.map((n) => `${n.name} ×${formatCount(n.count)}`).join(', ');
  const parts = [shown(s.protocols), shown(s.ciphers), shown(s.groups)].filter((p) => p !== '');
  return [
    `TLS handshakes: ${formatCount(s.full)} full, ${formatCount(s.resumed)} resumed (${share})`,
    `negotiated: ${parts.join(' · ')}`,
  ];
}

function family(c: Counters, prefix: string): Negotiated[] {
  return Object.entries(c)
    .filter(([k, n]) => k.startsWith(prefix) && n > 0)
    .map(([k, n]) => ({ name: k.slice(prefix.length), count: n }))
    .sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
}
