/**
 * The lean client's parser: mqtt-packet's, with its byte list swapped for bl's plain
 * BufferList (lean-mqtt.ts). If an mqtt-packet upgrade renames or changes the field, the swap
 * silently stops; this test fails then, so the saving is not lost unnoticed.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BufferList, BufferListStream } from 'bl';
import { generate, type Packet } from 'mqtt-packet';

import { leanParser } from '../../src/client/lean-parser.js';

test('the parser holds its bytes in a plain BufferList, not a stream', () => {
  for (const version of [4, 5] as const) {
    const list = (leanParser(version) as unknown as { _list: unknown })._list;
    assert.ok(list instanceof BufferList, `MQTT ${version}: a BufferList`);
    assert.ok(!(list instanceof BufferListStream), `MQTT ${version}: not a BufferListStream`);
  }
});

test('packets split across chunks at every byte still parse, in order', () => {
  const packets: Packet[] = [
    { cmd: 'connack', returnCode: 0, sessionPresent: false },
    {
      cmd: 'publish',
      topic: 'fb/a',
      payload: Buffer.alloc(300, 7),
      qos: 1,
      messageId: 9,
      dup: false,
      retain: false,
    },
    { cmd: 'puback', messageId: 9 },
    { cmd: 'suback', messageId: 2, granted: [1] },
    { cmd: 'pingresp' },
  ];
  const bytes = Buffer.concat(packets.map((p) => generate(p)));
  for (let cut = 1; cut < bytes.length; cut++) {
    const parser = leanParser(4);
    const seen: string[] = [];
    let payload: Buffer | undefined;
    parser.on('packet', (p: Packet) => {
      seen.push(p.cmd);
      if (p.cmd === 'publish') payload = Buffer.from(p.payload);
    });
    parser.parse(bytes.subarray(0, cut));
    parser.parse(bytes.subarray(cut));
    assert.deepEqual(seen, ['connack', 'publish', 'puback', 'suback', 'pingresp'], `cut at ${cut}`);
    assert.deepEqual(payload, Buffer.alloc(300, 7), `cut at ${cut}`);
  }
});

test("the parser's list reads integers as bl does, at every offset and past the end", () => {
  type List = InstanceType<typeof BufferList>;
  type Reader = Record<'readUInt8' | 'readUInt16BE' | 'readUInt32BE', (offset: number) => number>;
  const ours = (leanParser(4) as unknown as { _list: List & Reader })._list;
  const theirs = new BufferList() as List & Reader;
  for (const chunk of [[1], [2, 3], [], [4, 5, 6, 7], [8], [0xff, 0xfe, 0xfd]]) {
    ours.append(Buffer.from(chunk));
    theirs.append(Buffer.from(chunk));
  }
  const outcome = (read: () => number) => {
    try {
      return read();
    } catch (err) {
      return (err as NodeJS.ErrnoException).code ?? String(err);
    }
  };
  for (const method of ['readUInt8', 'readUInt16BE', 'readUInt32BE'] as const) {
    for (let offset = -1; offset <= ours.length + 1; offset++) {
      assert.equal(
        outcome(() => ours[method](offset)),
        outcome(() => theirs[method](offset)),
        `${method}(${offset})`,
      );
    }
  }
  ours.consume(3);
  theirs.consume(3);
  assert.equal(ours.readUInt32BE(0), theirs.readUInt32BE(0));
});
