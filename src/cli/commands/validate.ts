/** `fleetbench validate <scenario>`: check a scenario and print its plan, without running it. */

import type { CommandModule } from 'yargs';
import { describePlan } from '../../scenario/plan.js';
import { loadScenario } from '../../scenario/load.js';

interface ValidateArgs {
  scenario: string;
}

export function validateCommand(
  _setExit: (code: number) => void,
): CommandModule<object, ValidateArgs> {
  return {
    command: 'validate <scenario>',
    describe: 'Check a scenario file and print its plan',
    builder: (y) =>
      y.positional('scenario', {
        type: 'string',
        demandOption: true,
        describe: 'YAML or JSON file',
      }),
    handler: async (args) => {
      const plan = await loadScenario(args.scenario);
      process.stdout.write(`${describePlan(plan).join('\n')}\n${args.scenario} is valid\n`);
    },
  };
}
