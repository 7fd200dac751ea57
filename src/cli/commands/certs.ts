/** `fleetbench certs init`: the CA, the broker certificate and the shared device bundle. */

import type { CommandModule } from 'yargs';
import { initCerts } from '../../fleet/certs-init.js';

interface InitArgs {
  dir: string;
  algorithm: 'ec' | 'rsa';
  force: boolean;
}

export function certsCommand(_setExit: (code: number) => void): CommandModule {
  const init: CommandModule<object, InitArgs> = {
    command: 'init',
    describe: 'Generate a CA, a broker certificate and a shared device bundle',
    builder: (y) =>
      y
        .option('dir', { type: 'string', default: 'certs', describe: 'Directory to write' })
        .option('algorithm', {
          choices: ['ec', 'rsa'] as const,
          default: 'ec' as const,
          describe: 'Key type: EC P-256 or RSA 2048',
        })
        .option('force', { type: 'boolean', default: false, describe: 'Replace existing files' }),
    handler: async (args) => {
      const layout = await initCerts({
        dir: args.dir,
        algorithm: args.algorithm,
        force: args.force,
      });
      process.stderr.write(
        `wrote ${layout.dir}: root_ca.crt, root_ca.key, server.crt, server.key, ` +
          `common.crt, common.key (keys mode 0600)\n`,
      );
    },
  };
  return {
    command: 'certs <command>',
    describe: 'Manage the fleet certificates',
    builder: (y) => y.command(init).demandCommand(1, 'name a certs command: init'),
    handler: () => undefined,
  };
}
