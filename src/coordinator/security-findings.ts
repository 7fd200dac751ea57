/**
 * Security findings: what the broker let through that it should have refused. A negative
 * group (`expect: refuse`: an expired certificate, another CA's, a revoked one, a client id
 * that is not the certificate's) whose devices got a CONNACK, and with MQTT 5 a group's
 * publishes under another device's topic that the broker acknowledged.
 */

import type { Counters } from '../metrics/types.js';
import type { SecurityFinding } from '../report/document.js';
import type { Plan } from '../scenario/plan.js';

/** The findings of a run, one per group and kind; empty when the broker refused all it should. */
export function securityFindings(plan: Plan, counters: Counters): SecurityFinding[] {
  const n = (key: string) => counters[key] ?? 0;
  const findings: SecurityFinding[] = [];
  for (const g of plan.groups) {
    const prefix = `groups.${g.name}.`;
    const accepted = n(`${prefix}connect.ok`);
    if (g.expect === 'refuse' && accepted > 0) {
      const attempted = n(`${prefix}connect.attempted`);
      findings.push({
        group: g.name,
        kind: 'connect-accepted',
        count: accepted,
        message:
          `SECURITY FINDING: the broker accepted ${accepted} of ${attempted} devices of group ` +
          `${g.name}, which it should have refused (${identityOf(g)})`,
      });
    }
    const foreign = n(`${prefix}messages.foreign.acked`);
    if (g.publishTopic !== null && plan.mqtt.version === 5 && foreign > 0) {
      findings.push({
        group: g.name,
        kind: 'foreign-publish-accepted',
        count: foreign,
        message:
          `SECURITY FINDING: the broker acknowledged ${foreign} publishes of group ${g.name} ` +
          `to ${g.publishTopic}, a topic of another device`,
      });
    }
  }
  return findings;
}

function identityOf(g: Plan['groups'][number]): string {
  return g.identity.manifestFile === null
    ? `certificate ${g.identity.certFile}`
    : `certificates of ${g.identity.manifestFile}`;
}
