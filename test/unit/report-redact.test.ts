import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reportOptions } from '../../src/coordinator/assemble-report.js';
import { REDACTED, redactSecrets } from '../../src/report/sanitize.js';
import { planScenario } from '../../src/scenario/load.js';

test('secrets are redacted at any depth; other settings and file paths are kept', () => {
  const input = {
    identity: { keyFile: '/certs/device.key', passphrase: 'open sesame' },
    groups: [
      { name: 'a', keyPassphrase: 'x' },
      { password: 'y', apiKey: 'z', token: 't' },
    ],
    mqtt: { username: 'device-1', secret: { nested: 'deep' } },
    unset: { password: null },
  };
  assert.deepEqual(redactSecrets(input), {
    identity: { keyFile: '/certs/device.key', passphrase: REDACTED },
    groups: [
      { name: 'a', keyPassphrase: REDACTED },
      { password: REDACTED, apiKey: REDACTED, token: REDACTED },
    ],
    mqtt: { username: 'device-1', secret: REDACTED },
    unset: { password: null },
  });
  assert.equal(input.identity.passphrase, 'open sesame', 'the input is not changed');
});

test('a passphrase in a plan never reaches the report options', () => {
  const plan = planScenario({ name: 'p', devices: 2 }, { file: null, sha256: null, label: 'p' });
  // As a later identity setting (a PKCS#12 or key passphrase) would carry it.
  const withSecret = { ...plan, tls: { ...plan.tls, passphrase: 'open sesame' } };
  const text = JSON.stringify(reportOptions(withSecret));
  assert.ok(!text.includes('open sesame'));
  assert.match(text, /"passphrase":"\[redacted\]"/);
});
