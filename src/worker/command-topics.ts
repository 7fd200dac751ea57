/**
 * The topics of commands: each group's compiled command and response templates, a receiver's
 * command topic and a controller's client id by fleet ordinal (each worked out once, as every
 * command and response needs one), and the filter a controller takes its responses on.
 */

import type { FleetIdentities } from '../fleet/fleet-identities.js';
import { DEVICE_PLACEHOLDERS, RESPONSE_PLACEHOLDERS } from '../scenario/group-behaviour.js';
import type { Plan } from '../scenario/plan.js';
import { compileTemplate, wildcardFilter, type Template } from '../scenario/template.js';

export class CommandTopics {
  /** Per group of the plan: its command and response templates; null without commands. */
  private readonly templates: ({ command: Template; response: Template } | null)[];
  /** Receiver ordinal → its command topic, rendered on first use. */
  private readonly commandTopics = new Map<number, string>();
  /** Controller ordinal → its client id. */
  private readonly controllerIds = new Map<number, string>();

  constructor(
    private readonly plan: Plan,
    private readonly identities: FleetIdentities,
  ) {
    this.templates = plan.groups.map((g) => {
      const c = g.traffic?.commands;
      if (c === undefined || c === null) return null;
      return {
        command: compileTemplate(c.topic, DEVICE_PLACEHOLDERS, 'commands.topic'),
        response: compileTemplate(c.responseTopic, RESPONSE_PLACEHOLDERS, 'commands.responseTopic'),
      };
    });
  }

  /** The command topic of the receiver with fleet ordinal `ordinal`. */
  command(ordinal: number): string {
    let topic = this.commandTopics.get(ordinal);
    if (topic === undefined) {
      const gi = groupIndexOf(this.plan, ordinal);
      const identity = this.identities.identityOf(gi, ordinal);
      const values = { ...identity, i: identity.index, group: this.plan.groups[gi]?.name ?? '' };
      topic = this.templates[gi]?.command.render(values) ?? '';
      this.commandTopics.set(ordinal, topic);
    }
    return topic;
  }

  /** The topic a receiver of group `group` (index in the plan) answers on, given its values. */
  response(group: number, values: Readonly<Record<string, string | number>>): string {
    return this.templates[group]?.response.render(values) ?? '';
  }

  /**
   * The filter over the responses of group `group`'s receivers to the controller with client id
   * `controllerId`; undefined when that group has no commands.
   */
  responseFilter(group: number, controllerId: string): string | undefined {
    const t = this.templates[group];
    if (t === null || t === undefined) return undefined;
    return wildcardFilter(t.response, { controllerId }, 'commands.responseTopic');
  }

  /** The client id of the controller with fleet ordinal `ordinal`. */
  controllerId(ordinal: number): string {
    let id = this.controllerIds.get(ordinal);
    if (id === undefined) {
      id = this.identities.identityOf(groupIndexOf(this.plan, ordinal), ordinal).clientId;
      this.controllerIds.set(ordinal, id);
    }
    return id;
  }
}

/** The index in `plan.groups` of the group holding a fleet ordinal. */
function groupIndexOf(plan: Plan, ordinal: number): number {
  const i = plan.groups.findIndex(
    (g) => ordinal >= g.firstOrdinal && ordinal < g.firstOrdinal + g.devices,
  );
  return Math.max(0, i);
}
