/** `fleetbench broker`: the embedded mTLS broker in the foreground, until Ctrl-C. */

import type { CommandModule } from 'yargs';
import { startEmbeddedBroker } from '../../broker/embedded-broker.js';
import { ensureDefaultCerts } from '../../fleet/certs-init.js';

interface BrokerArgs {
  port: number;
  host: string;
  certs: string;
}

export function brokerCommand(_setExit: (code: number) => void): CommandModule<object, BrokerArgs> {
  return {
    command: 'broker',
    describe: 'Run the embedded mutual-TLS broker (aedes) until Ctrl-C',
    builder: (y) =>
      y
        .option('port', { type: 'number', default: 8884, describe: 'TLS port (0: any free)' })
        .option('host', { type: 'string', default: '127.0.0.1', describe: 'Address to bind' })
        .option('certs', { type: 'string', default: 'certs', describe: 'Certificate directory' }),
    handler: async (args) => {
      const { layout, created } = await ensureDefaultCerts(args.certs);
      if (created) process.stderr.write(`generated certificates in ${layout.dir}\n`);
      const broker = await startEmbeddedBroker({
        host: args.host,
        port: args.port,
        caFile: layout.caCert,
        certFile: layout.serverCert,
        keyFile: layout.serverKey,
      });
      process.stderr.write(
        `broker listening on mqtts://${broker.host}:${broker.port} ` +
          `(client certificates must chain to ${layout.caCert}); Ctrl-C stops it\n`,
      );
      await new Promise<void>((resolve) => process.once('SIGINT', resolve));
      await broker.close();
    },
  };
}
