/**
 * mqtt-packet's debug calls are silenced in fleetbench's threads unless DEBUG asks for them
 * (packet-layer.ts). Each case runs in a fresh Node process, since the wrapping happens once,
 * when mqtt-packet is first loaded.
 */

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const LEAN = resolve(import.meta.dirname, '../../src/client/lean-parser.js');
const LAYER = resolve(import.meta.dirname, '../../src/client/packet-layer.js');

/**
 * In a fresh process: loads the lean client's parser, parses a PINGRESP split in two, prints
 * whether mqtt-packet's debug is silenced, what the parser saw, and whether another library's
 * namespace still gets a real logger.
 */
async function probe(debugEnv: string | undefined) {
  const script = `
    const { leanParser } = await import(${JSON.stringify(LEAN)});
    const { packetDebugSilenced } = await import(${JSON.stringify(LAYER)});
    const { createRequire } = await import('node:module');
    const req = createRequire(createRequire(import.meta.url).resolve('mqtt-packet'));
    const other = req('debug')('mqttjs:client');
    const seen = [];
    const p = leanParser(4);
    p.on('packet', (x) => seen.push(x.cmd));
    p.parse(Buffer.from([0xd0]));
    p.parse(Buffer.from([0x00]));
    console.log(JSON.stringify({ packetDebugSilenced, seen, other: other.namespace ?? null }));
  `;
  const env = { ...process.env };
  delete env.DEBUG;
  if (debugEnv !== undefined) env.DEBUG = debugEnv;
  const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', script], {
    env,
    timeout: 20_000,
  });
  const parsed = JSON.parse(stdout) as {
    packetDebugSilenced: boolean;
    seen: string[];
    other: string;
  };
  return { ...parsed, stderr };
}

test('without DEBUG, mqtt-packet is silenced and still parses', async () => {
  const r = await probe(undefined);
  assert.deepEqual(r, {
    packetDebugSilenced: true,
    seen: ['pingresp'],
    other: 'mqttjs:client',
    stderr: '',
  });
});

test('DEBUG=mqtt-packet:* still prints the parser debug lines', async () => {
  const r = await probe('mqtt-packet:*');
  assert.deepEqual(r.seen, ['pingresp']);
  assert.match(r.stderr, /mqtt-packet:parser/);
});

test('DEBUG naming another library: mqtt-packet silent, that library logging', async () => {
  const r = await probe('mqttjs:*');
  assert.equal(r.packetDebugSilenced, true);
  assert.doesNotMatch(r.stderr, /mqtt-packet/);
  assert.equal(r.other, 'mqttjs:client');
});
