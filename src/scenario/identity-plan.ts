/**
 * A scenario's `identity` (and each group's override of it) resolved into an identity plan:
 * which source the devices' certificates come from, every file made absolute. A group that
 * names its own source replaces the inherited one; the other keys merge key by key.
 */

import { existsSync } from 'node:fs';
import path from 'node:path';

import type { IdentityPlan, IdentitySource, ManifestColumns } from './plan.js';
import type { Scenario } from './schema.js';

/** The `identity` settings as validated (a group's: a partial of them). */
export type IdentityInput = Scenario['identity'];

/** The keys that choose a source; at most one source per identity (cert and key go together). */
const SOURCE_KEYS = ['manifest', 'mint', 'platform', 'pkcs12'] as const;

/** Our manifest's column names: what `certs init --devices` writes. */
export const DEFAULT_COLUMNS: ManifestColumns = {
  deviceId: 'device_id',
  clientId: 'client_id',
  username: 'username',
  cert: 'cert',
  key: 'key',
  pkcs12: 'pkcs12',
};

/** The platform download's file names (see docs/scenarios.md, "Platform download"). */
export const PLATFORM_FILES = {
  ca: 'root_ca.crt',
  cert: 'common.crt',
  key: 'common.key',
  dir: 'common_certs',
} as const;

/**
 * Resolves the top-level identity with a group's override (`{}` for the top level itself).
 * @param baseDir Directory relative paths resolve against (the scenario file's).
 * @param certsDir The default layout's directory.
 */
export function resolveIdentity(
  base: IdentityInput,
  override: Partial<IdentityInput>,
  baseDir: string,
  certsDir: string,
): IdentityPlan {
  const own = stripUndefined(override);
  const id = { ...base, ...own };
  if (namesSource(own)) {
    // A group's own source replaces the inherited one.
    for (const k of SOURCE_KEYS) if (own[k] === undefined) id[k] = undefined;
    if (own.cert === undefined && own.key === undefined) id.cert = id.key = undefined;
  }
  if (own.passphraseEnv !== undefined) id.passphraseFile = undefined;
  if (own.passphraseFile !== undefined) id.passphraseEnv = undefined;

  const abs = (f: string) => path.resolve(baseDir, f);
  const file = (f: string | undefined, fallback: string) =>
    f === undefined ? path.join(certsDir, fallback) : abs(f);
  const platformDir = id.platform === undefined ? null : platformDirOf(abs(id.platform));
  const inPlatform = (name: string) => path.join(platformDir ?? '', name);
  const caFile =
    id.ca === undefined && platformDir !== null
      ? inPlatform(PLATFORM_FILES.ca)
      : file(id.ca, 'root_ca.crt');
  return {
    source: sourceOf(id),
    caFile,
    certFile: platformDir !== null ? inPlatform(PLATFORM_FILES.cert) : file(id.cert, 'common.crt'),
    keyFile: platformDir !== null ? inPlatform(PLATFORM_FILES.key) : file(id.key, 'common.key'),
    defaultFiles:
      SOURCE_KEYS.every((k) => id[k] === undefined) &&
      [id.ca, id.cert, id.key].every((f) => f === undefined),
    manifestFile: id.manifest === undefined ? null : abs(id.manifest),
    columns: { ...DEFAULT_COLUMNS, ...stripUndefined(id.columns ?? {}) },
    pkcs12File: id.pkcs12 === undefined ? null : abs(id.pkcs12),
    mint:
      id.mint === undefined
        ? null
        : {
            caFile: id.mint.ca === undefined ? caFile : abs(id.mint.ca),
            caKeyFile: abs(id.mint.caKey),
            validityDays: id.mint.validityDays,
          },
    passphrase:
      id.passphraseEnv !== undefined
        ? { env: id.passphraseEnv }
        : id.passphraseFile !== undefined
          ? { file: abs(id.passphraseFile) }
          : null,
    contexts: id.contexts,
    deviceId: id.deviceId,
    clientId: id.clientId,
    username: id.username,
    firstIndex: id.firstIndex,
  };
}

/**
 * Settings that contradict each other within one `identity` (the top level's or a group's):
 * two sources, `columns` without a manifest, two passphrase sources.
 * @param where The setting path, `identity` or `groups[2].identity`.
 * @param inherited For a group: the top-level identity it inherits from. Default: none.
 */
export function identityConflicts(
  id: Partial<IdentityInput>,
  where: string,
  inherited: Partial<IdentityInput> = {},
): string[] {
  const given = SOURCE_KEYS.filter((k) => id[k] !== undefined);
  const problems: string[] = [];
  if (given.length > 1) {
    problems.push(`${where} has ${given.join(' and ')}: give one source of device certificates`);
  }
  const first = given[0];
  if (first !== undefined) {
    for (const k of ['cert', 'key'] as const) {
      if (id[k] !== undefined) {
        problems.push(`${where}.${k} cannot be combined with ${where}.${first} (got "${id[k]}")`);
      }
    }
  }
  const manifest = id.manifest ?? (namesSource(id) ? undefined : inherited.manifest);
  if (id.columns !== undefined && manifest === undefined) {
    problems.push(`${where}.columns needs ${where}.manifest (the CSV whose columns it names)`);
  }
  if (id.passphraseEnv !== undefined && id.passphraseFile !== undefined) {
    problems.push(`${where} has passphraseEnv and passphraseFile: give one`);
  }
  if (id.platform !== undefined && /\.zip$/i.test(id.platform)) {
    problems.push(
      `${where}.platform must be the extracted directory, not the archive ` +
        `(got "${id.platform}"): ` +
        'unzip it and name the folder with root_ca.crt, common.crt and common.key',
    );
  }
  return problems;
}

/** Drops the keys whose value is undefined (so a spread does not reset inherited ones). */
export function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function namesSource(id: Partial<IdentityInput>): boolean {
  return (
    SOURCE_KEYS.some((k) => id[k] !== undefined) || id.cert !== undefined || id.key !== undefined
  );
}

function sourceOf(id: Partial<IdentityInput>): IdentitySource {
  return SOURCE_KEYS.find((k) => id[k] !== undefined) ?? 'shared';
}

/** The download as extracted (`common_certs/`), or the folder it was extracted into. */
function platformDirOf(dir: string): string {
  const nested = path.join(dir, PLATFORM_FILES.dir);
  const flat = existsSync(path.join(dir, PLATFORM_FILES.cert));
  return !flat && existsSync(path.join(nested, PLATFORM_FILES.cert)) ? nested : dir;
}
