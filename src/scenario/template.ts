/**
 * Identity and topic templates. A template is text with placeholders in braces:
 * `{i}` the device number, `{i:06}` the same zero-padded to six digits, and named values
 * such as `{deviceId}`, `{clientId}`, `{username}`. Compiled once, rendered per device
 * without re-parsing, because fleets render them tens of thousands of times.
 */

import { FleetbenchError } from '../errors.js';

type Part = string | { name: string; pad: number };

/** A compiled template: call `render` with the device number and named values. */
export interface Template {
  readonly source: string;
  /** Placeholder names it uses (`i` included when present). */
  readonly names: ReadonlySet<string>;
  render(values: Readonly<Record<string, string | number>>): string;
}

const PLACEHOLDER = /\{([A-Za-z][A-Za-z0-9]*)(?::0(\d+))?\}/g;

/**
 * Compiles a template. Unknown placeholder names are an error naming `setting`.
 * @param source the template text
 * @param allowed placeholder names this setting may use
 * @param setting the scenario path of the setting, for error messages
 */
export function compileTemplate(
  source: string,
  allowed: readonly string[],
  setting: string,
): Template {
  const parts: Part[] = [];
  const names = new Set<string>();
  let last = 0;
  for (const m of source.matchAll(PLACEHOLDER)) {
    const name = m[1] ?? '';
    if (!allowed.includes(name)) {
      throw new FleetbenchError(
        'E_SCENARIO',
        `${setting} uses unknown placeholder {${name}} (got "${source}")`,
        { hint: `use one of ${allowed.map((a) => `{${a}}`).join(', ')}` },
      );
    }
    if (m.index > last) parts.push(source.slice(last, m.index));
    parts.push({ name, pad: m[2] === undefined ? 0 : Number(m[2]) });
    names.add(name);
    last = m.index + m[0].length;
  }
  if (last < source.length) parts.push(source.slice(last));
  const stray = parts.find((p) => typeof p === 'string' && /[{}]/.test(p));
  if (stray !== undefined) {
    throw new FleetbenchError('E_SCENARIO', `${setting} has an unmatched brace (got "${source}")`, {
      hint: 'placeholders look like {i}, {i:06} or {clientId}',
    });
  }
  return { source, names, render: (values) => renderParts(parts, values) };
}

function renderParts(parts: Part[], values: Readonly<Record<string, string | number>>): string {
  let out = '';
  for (const p of parts) {
    if (typeof p === 'string') {
      out += p;
      continue;
    }
    const v = String(values[p.name] ?? '');
    out += p.pad > v.length ? v.padStart(p.pad, '0') : v;
  }
  return out;
}

/** The identity of one device, rendered from the scenario's templates. */
export interface DeviceIdentity {
  index: number;
  deviceId: string;
  clientId: string;
  username: string;
}

/** Templates of a fleet's identities, in the order they may refer to each other. */
export interface IdentityTemplates {
  deviceId: string;
  clientId: string;
  username: string;
}

/**
 * Compiles identity templates into one function from device number to identity.
 * `deviceId` may use `{i}`; `clientId` also `{deviceId}`; `username` also `{clientId}`.
 */
export function compileIdentity(
  templates: IdentityTemplates,
  settingPrefix = 'identity',
): (index: number) => DeviceIdentity {
  const deviceId = compileTemplate(templates.deviceId, ['i'], `${settingPrefix}.deviceId`);
  const clientId = compileTemplate(
    templates.clientId,
    ['i', 'deviceId'],
    `${settingPrefix}.clientId`,
  );
  const username = compileTemplate(
    templates.username,
    ['i', 'deviceId', 'clientId'],
    `${settingPrefix}.username`,
  );
  return (index) => {
    const d = deviceId.render({ i: index });
    const c = clientId.render({ i: index, deviceId: d });
    const u = username.render({ i: index, deviceId: d, clientId: c });
    return { index, deviceId: d, clientId: c, username: u };
  };
}
