import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileIdentity, compileTemplate } from '../../src/scenario/template.js';

describe('templates', () => {
  test('renders the device number, padded and plain', () => {
    const t = compileTemplate('dev-{i:05}/{i}', ['i'], 'x');
    assert.equal(t.render({ i: 42 }), 'dev-00042/42');
    assert.equal(t.render({ i: 1234567 }), 'dev-1234567/1234567');
  });

  test('identity: client id and username derive from the device id', () => {
    const id = compileIdentity({
      deviceId: 'sensor-{i:03}',
      clientId: '{deviceId}',
      username: 'u-{clientId}',
    });
    assert.deepEqual(id(7), {
      index: 7,
      deviceId: 'sensor-007',
      clientId: 'sensor-007',
      username: 'u-sensor-007',
    });
  });

  test('the platform convention: device number as client id and username', () => {
    const id = compileIdentity({ deviceId: '{i}', clientId: '{deviceId}', username: '{deviceId}' });
    const d = id(12);
    assert.equal(d.clientId, '12');
    assert.equal(d.username, '12');
  });

  test('unknown placeholders and stray braces are errors naming the setting', () => {
    assert.throws(
      () => compileTemplate('x-{clientId}', ['i'], 'identity.deviceId'),
      /identity\.deviceId uses unknown placeholder \{clientId\}/,
    );
    assert.throws(
      () => compileTemplate('x-{i', ['i'], 'traffic.topic'),
      /traffic\.topic has an unmatched brace/,
    );
  });

  test('a later template cannot use a value defined after it', () => {
    assert.throws(
      () => compileIdentity({ deviceId: '{clientId}', clientId: 'c{i}', username: 'u' }),
      /identity\.deviceId uses unknown placeholder/,
    );
  });
});
