/**
 * A minimal SNTP server on loopback for tests: answers each request with this machine's time
 * plus `skewMs`, as a server whose clock is that far ahead would.
 */

import dgram from 'node:dgram';

const NTP_EPOCH_OFFSET_SEC = 2_208_988_800;

export interface SntpServer {
  /** `127.0.0.1:<port>`. */
  address: string;
  /** Requests answered. */
  answered(): number;
  close(): Promise<void>;
}

/** Starts the server; `stratum` 0 makes it answer with a kiss-o'-death. */
export async function startSntpServer(skewMs: number, stratum = 2): Promise<SntpServer> {
  const socket = dgram.createSocket('udp4');
  let answered = 0;
  socket.on('message', (msg, from) => {
    const now = performance.timeOrigin + performance.now() + skewMs;
    const reply = Buffer.alloc(48);
    reply[0] = 0x24; // version 4, mode 4 (server)
    reply[1] = stratum;
    msg.copy(reply, 24, 40, 48); // originate = the client's transmit timestamp
    write(reply, 32, now);
    write(reply, 40, now);
    answered++;
    socket.send(reply, from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${socket.address().port}`,
    answered: () => answered,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

function write(buf: Buffer, at: number, ms: number): void {
  buf.writeUInt32BE((Math.floor(ms / 1000) + NTP_EPOCH_OFFSET_SEC) >>> 0, at);
  buf.writeUInt32BE(Math.floor(((ms % 1000) / 1000) * 2 ** 32) >>> 0, at + 4);
}
