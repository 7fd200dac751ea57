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
 * @param braces `literal` for a JSON payload template, whose own braces are text
 */
export function compileTemplate(
  source: string,
  allowed: readonly string[],
  setting: string,
  braces: 'placeholders' | 'literal' = 'placeholders',
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
  const stray =
    braces === 'literal' ? undefined : parts.find((p) => typeof p === 'string' && /[{}]/.test(p));
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
  const rest = compileIdentityOf(templates, settingPrefix);
  return (index) => rest(deviceId.render({ i: index }), index);
}

/**
 * Like {@link compileIdentity}, for a device whose id is given (a manifest row's): the client
 * id and username rendered from their templates with it.
 */
export function compileIdentityOf(
  templates: Omit<IdentityTemplates, 'deviceId'>,
  settingPrefix = 'identity',
): (deviceId: string, index: number) => DeviceIdentity {
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
  return (d, index) => {
    const c = clientId.render({ i: index, deviceId: d });
    const u = username.render({ i: index, deviceId: d, clientId: c });
    return { index, deviceId: d, clientId: c, username: u };
  };
}

/** Stands for a wildcard placeholder while a filter is rendered (never in a topic). */
const WILD = '\u0000';

/**
 * The topic filter matching every rendering of a template: the `fixed` placeholders rendered,
 * every other one replaced by `+`. Each of those must fill a whole topic level.
 * @param setting the scenario path of the template, for error messages
 * @throws FleetbenchError E_SCENARIO when a wildcard placeholder shares a level with text
 */
export function wildcardFilter(
  template: Template,
  fixed: Readonly<Record<string, string | number>>,
  setting: string,
): string {
  const values: Record<string, string | number> = { ...fixed };
  for (const name of template.names) if (!(name in fixed)) values[name] = WILD;
  const levels = template.render(values).split('/');
  const bad = levels.find((l) => l.includes(WILD) && l !== WILD);
  if (bad !== undefined) {
    throw new FleetbenchError(
      'E_SCENARIO',
      `${setting} needs each placeholder as a whole topic level to be matched by a wildcard ` +
        `(got "${template.source}")`,
      { hint: 'write it as a/{deviceId}/b, not a/dev-{deviceId}/b, or give the filter itself' },
    );
  }
  return levels.map((l) => (l === WILD ? '+' : l)).join('/');
}

/**
 * Why a topic filter is not valid MQTT (`#` only as the last level, `+` only as a whole level),
 * or null when it is.
 */
export function filterProblem(filter: string): string | null {
  const levels = filter.split('/');
  for (const [i, level] of levels.entries()) {
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) {
      return '# must be the last level on its own';
    }
    if (level.includes('+') && level !== '+') return '+ must be a whole level';
  }
  return null;
}

/** Whether a topic matches an MQTT topic filter (`+` one level, `#` the rest). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return true;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}
