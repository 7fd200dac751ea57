/** Which way is better for a metric, for marking regressions in a comparison. */

import type { MetricDirection } from './metric-path.js';

const HIGHER_IS_BETTER: ReadonlySet<string> = new Set([
  'connect.ok',
  'connect.ok.rate',
  'subscribe.ok',
  'subscribe.ok.rate',
  'messages.received.rate',
  'messages.acked.rate',
  'commands.received.rate',
  'reconnect.ok.rate',
  'tls.resumed.rate',
]);

/**
 * Which way is better for a counter or a rate of one: failures and losses down, successes up,
 * the rest (what was attempted, which the scenario decides) neither.
 */
export function directionOf(key: string): MetricDirection {
  const k = key.replace(/^(groups\.[^.]+|targets\.\d+)\./, '');
  if (/(^|\.)(failed|lost|gaveUp|outOfRange|timeout|refused)(\.|$)/.test(k)) {
    return 'lower-is-better';
  }
  // How many messages went out depends on timing the scenario sets; the share that came back
  // (`messages.received.rate`) is the quality figure, so raw message counts are neutral.
  return HIGHER_IS_BETTER.has(k) ? 'higher-is-better' : 'neutral';
}
