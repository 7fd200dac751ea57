/**
 * `fleetbench certs init`: the CA, the broker certificate and the shared device bundle, and
 * with `--devices N` a certificate per device plus the manifest a scenario reads.
 */

import { readFile } from 'node:fs/promises';
import type { CommandModule } from 'yargs';
import { FleetbenchError } from '../../errors.js';
import { initCerts } from '../../fleet/certs-init.js';
import { initDeviceSet } from '../../fleet/device-set.js';
import { readManifest } from '../../fleet/manifest.js';
import { readPassphrase } from '../../fleet/key-secrets.js';
import { initNegativeSets, NEGATIVE_KINDS } from '../../fleet/negative-sets.js';
import { RSA_BITS, type RsaBits } from '../../fleet/pki.js';
import { preflightDevices, preflightError } from '../../fleet/preflight.js';

interface InitArgs {
  dir: string;
  algorithm: 'ec' | 'rsa' | undefined;
  'rsa-bits': RsaBits | undefined;
  force: boolean;
  devices: number | undefined;
  id: string;
  'first-index': number;
  threads: number | undefined;
}

const LAYOUT_FILES = 'root_ca.crt, root_ca.key, server.crt, server.key, common.crt, common.key';

export function certsCommand(_setExit: (code: number) => void): CommandModule {
  const init: CommandModule<object, InitArgs> = {
    command: 'init',
    describe:
      'Generate a CA, a broker certificate, a shared device bundle, and device certificates',
    builder: (y) =>
      y
        .option('dir', { type: 'string', default: 'certs', describe: 'Directory to write' })
        .option('algorithm', {
          alias: 'key-type',
          choices: ['ec', 'rsa'] as const,
          describe: "Key type: EC P-256 or RSA (default ec; with --devices: the CA's)",
        })
        .option('rsa-bits', {
          choices: RSA_BITS,
          coerce: (v: unknown) => (v === undefined ? undefined : (Number(v) as RsaBits)),
          describe: 'RSA modulus of rsa keys, bits (default 2048)',
        })
        .option('force', { type: 'boolean', default: false, describe: 'Replace existing files' })
        .option('devices', {
          type: 'number',
          describe: 'Also write a key and certificate per device and the manifest devices.csv',
        })
        .option('id', {
          type: 'string',
          default: 'device-{i:05}',
          describe: 'Device id template ({i} device number, {i:06} zero-padded): CN and client id',
        })
        .option('first-index', {
          type: 'number',
          default: 1,
          describe: 'Number of the first device',
        })
        .option('threads', { type: 'number', describe: 'Signing threads (default: cores)' }),
    handler: async (args) => {
      if (args.devices === undefined) {
        const layout = await initCerts({
          dir: args.dir,
          algorithm: args.algorithm,
          rsaBits: args['rsa-bits'],
          force: args.force,
        });
        process.stderr.write(`wrote ${layout.dir}: ${LAYOUT_FILES} (keys mode 0600)\n`);
        return;
      }
      let lastShown = 0;
      const result = await initDeviceSet({
        dir: args.dir,
        devices: args.devices,
        idTemplate: args.id,
        firstIndex: args['first-index'],
        algorithm: args.algorithm,
        rsaBits: args['rsa-bits'],
        force: args.force,
        threads: args.threads,
        onProgress: (done, total) => {
          if (done - lastShown < total / 10 && done !== total) return;
          lastShown = done;
          process.stderr.write(`  ${done}/${total} devices\n`);
        },
      });
      const sec = result.elapsedMs / 1000;
      const rate = result.devices / Math.max(sec, 1e-3);
      process.stderr.write(
        `${result.layoutCreated ? 'wrote' : 'reused'} ${result.layout.dir}: ${LAYOUT_FILES}\n` +
          `wrote ${result.devices} device certificates in ${sec.toFixed(1)} s ` +
          `(${Math.round(rate)} certificates/s on ${result.threads} threads; keys mode 0600)\n` +
          `manifest: ${result.manifest}\n`,
      );
    },
  };
  return {
    command: 'certs <command>',
    describe: 'Manage the fleet certificates',
    builder: (y) =>
      y
        .command(init)
        .command(checkCommand())
        .command(negativeCommand())
        .demandCommand(1, 'name a certs command: init, check, negative'),
    handler: () => undefined,
  };
}

interface CheckArgs {
  manifest: string;
  ca: string;
  threads: number | undefined;
  'passphrase-env': string | undefined;
}

/** `certs check`: the run's preflight of a manifest's devices, on its own. */
function checkCommand(): CommandModule<object, CheckArgs> {
  return {
    command: 'check',
    describe:
      'Check every device of a manifest: parses, matches its key, valid now, signed by the CA',
    builder: (y) =>
      y
        .option('manifest', {
          type: 'string',
          default: 'certs/devices.csv',
          describe: 'Device manifest',
        })
        .option('ca', {
          type: 'string',
          default: 'certs/root_ca.crt',
          describe: 'CA the devices chain to',
        })
        .option('threads', { type: 'number', describe: 'Checking threads (default: cores)' })
        .option('passphrase-env', {
          type: 'string',
          describe: 'Environment variable holding the passphrase of PKCS#12 rows',
        }),
    handler: async (args) => {
      const devices = await readManifest(args.manifest, '--manifest');
      const env = args['passphrase-env'];
      const passphrase = await readPassphrase(env === undefined ? null : { env }, 'certs check', {
        env: '--passphrase-env',
        file: '--passphrase-env',
      });
      const caPem = await readFile(args.ca, 'utf8').catch((err: NodeJS.ErrnoException) => {
        throw new FleetbenchError(
          'E_CERTS',
          `--ca: ${args.ca} cannot be read (${err.code ?? 'error'})`,
          {
            hint: 'give the CA certificate that signed the devices (certs/root_ca.crt by default)',
          },
        );
      });
      const result = await preflightDevices(
        [
          {
            setting: '--manifest',
            caPem,
            devices,
            scope: { validity: true, chain: true },
            ...(passphrase === undefined ? {} : { passphrase }),
          },
        ],
        { threads: args.threads },
      );
      if (result.problems.length > 0) throw preflightError(result, 'fix them before a run');
      const sec = result.elapsedMs / 1000;
      const perSec = Math.round(result.devices / Math.max(sec, 1e-3));
      process.stderr.write(
        `checked ${result.devices} device certificates in ${sec.toFixed(2)} s ` +
          `(${perSec}/s on ${result.threads} threads): all usable\n`,
      );
    },
  };
}

interface NegativeArgs {
  dir: string;
  devices: number;
  force: boolean;
}

/** `certs negative`: device sets a broker must refuse, and the CA's CRL. */
function negativeCommand(): CommandModule<object, NegativeArgs> {
  return {
    command: 'negative',
    describe:
      'Write device sets a broker must refuse (expired, unknown CA, revoked, client id mismatch) ' +
      'and crl.pem',
    builder: (y) =>
      y
        .option('dir', { type: 'string', default: 'certs', describe: 'Certificate directory' })
        .option('devices', { type: 'number', default: 5, describe: 'Devices per set' })
        .option('force', { type: 'boolean', default: false, describe: 'Replace existing sets' }),
    handler: async (args) => {
      const result = await initNegativeSets(args);
      const lines = NEGATIVE_KINDS.map((k) => `  ${k}: ${result.manifests[k]}`);
      process.stderr.write(
        `wrote ${args.devices} devices per set (keys mode 0600):\n${lines.join('\n')}\n` +
          `CRL revoking the revoked set: ${result.crl}\n`,
      );
    },
  };
}
