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
import { PathError } from '../experiments/paths.js';
import { BackendError } from '../linalg/index.js';

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
      for (const line of e.problems.slice(0, MAX_PROBLEM_LINES)) process.stderr.write(`featlab: ${printable(line)}\n`);
      if (e.problems.length > MAX_PROBLEM_LINES) process.stderr.write(`featlab: … and ${e.problems.length - MAX_PROBLEM_LINES} more problems\n`);
      return EXIT_USAGE;
    }
    const line = userErrorLine(e);
    if (line !== null) {
      process.stderr.write(`featlab: ${printable(line)}\n`);
      return EXIT_USAGE;
    }
    throw e;
  }
}

/** A spec with thousands of problems prints this many, then how many more. */
const MAX_PROBLEM_LINES = 20;

/**
 * A line as the terminal should show it: control characters (escape sequences, OSC 52 clipboard
 * writes), bidirectional overrides and zero-width characters from a spec's field names are written
 * as \uXXXX instead of acting on the terminal.
 */
export function printable(line: string): string {
  // eslint-disable-next-line no-control-regex -- the point is to find control characters
  return line.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const ERRNO_WORDS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EISDIR: 'is a folder, a file is needed',
  ENOTDIR: 'a part of the path is not a folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EEXIST: 'already exists',
};

/**
 * The one line a user's error is told in (exit 2), or null for a defect, which keeps its stack trace:
 * spec and usage errors, stores, data files, paths, the backend setting, and the file system's and
 * SQLite's refusals (a folder given as a store, a file in a missing folder, a read-only store).
 */
export function userErrorLine(e: unknown): string | null {
  if (!(e instanceof Error)) return null;
  if (e instanceof UsageError || e instanceof StoreError || e instanceof DataFileError || e instanceof PathError || e instanceof BackendError || /^(model|data|training|metrics)\./.test(e.message)) return oneLine(e.message);
  const errno = e as NodeJS.ErrnoException;
  if (typeof errno.code === 'string' && typeof errno.path === 'string') return `${errno.path}: ${ERRNO_WORDS[errno.code] ?? errno.code.toLowerCase()}`;
  if (e.name === 'SqliteError') return `store: ${oneLine(e.message)}${/readonly/i.test(e.message) ? ' (the store or its folder is not writable by this user)' : ''}`;
  return null;
}

function oneLine(text: string): string {
  return text.split('\n')[0];
}
