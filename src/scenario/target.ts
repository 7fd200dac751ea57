/** A scenario's target URL (`mqtts://host:port`, `mqtt://`, or the embedded broker). */

import { FleetbenchError } from '../errors.js';
import type { TargetPlan } from './plan.js';

/** Parses `mqtts://host:port` (or `embedded`, or nothing) into a target. */
export function parseTarget(target: string | undefined, label: string): TargetPlan {
  if (target === undefined || target === 'embedded') {
    return { kind: 'embedded', protocol: 'mqtts', host: '127.0.0.1', port: 0 };
  }
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new FleetbenchError(
      'E_SCENARIO',
      `target must be a URL like mqtts://host:8883 (got "${target}")`,
      {
        hint: `fix target in ${label} or --target`,
      },
    );
  }
  const protocol = url.protocol.replace(/:$/, '');
  if (protocol !== 'mqtts' && protocol !== 'mqtt') {
    throw new FleetbenchError('E_SCENARIO', `target must use mqtts:// (got "${target}")`, {
      hint: 'devices connect with mutual TLS: mqtts://host:8883; mqtt:// is plain TCP',
    });
  }
  const port = url.port === '' ? (protocol === 'mqtts' ? 8883 : 1883) : Number(url.port);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { kind: 'url', protocol, host, port };
}
