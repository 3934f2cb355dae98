/** The `featlab` command: every user error is one line on stderr and exit code 2. */
import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { SpecError } from '../experiments/trialSpec.js';
import { EXIT_USAGE, UsageError } from './errors.js';
import { trainCommand } from './train.js';
import { experimentCommands } from './experimentCommands.js';
import { metricsCommand } from './metricsCommand.js';
import { dataCommand } from './dataCommands.js';
import { doctorCommand } from './doctorCommand.js';
import { serveCommand } from './serveCommand.js';
import { slurmCommand } from './slurmCommand.js';
import { StoreError } from '../run/store.js';
import { DataFileError } from '../data/formats.js';

const require = createRequire(import.meta.url);
const { version } = require('../../../package.json') as { version: string };

export function program(): Command {
  const root = new Command('featlab')
    .description('a laboratory for the dynamics of feature learning in neural networks')
    .version(version)
    .showHelpAfterError(false)
    .exitOverride();
  root.addCommand(trainCommand().exitOverride());
  for (const command of [...experimentCommands(), metricsCommand(), dataCommand(), doctorCommand(), serveCommand(), slurmCommand()]) root.addCommand(command.exitOverride());
  return root;
}

export async function main(argv: string[]): Promise<number> {
  // Output piped into a command that stops reading (head) is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  try {
    await program().parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version arrive here as "errors" with exit code 0.
      return e.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (e instanceof SpecError) {
      for (const line of e.problems) process.stderr.write(`featlab: ${line}\n`);
      return EXIT_USAGE;
    }
    if (e instanceof UsageError || e instanceof StoreError || e instanceof DataFileError || (e instanceof Error && /^(model|data|training)\./.test(e.message))) {
      process.stderr.write(`featlab: ${e.message}\n`);
      return EXIT_USAGE;
    }
    throw e;
  }
}
