import { Command } from 'commander';
import { commands } from './commands/index.ts';
import { leafVersion } from '../lib/util/version.ts';

const program = new Command('leaf')
  .description('LeaF: find confounding tokens by teacher/student gradient comparison, prune them, and distil')
  .version(leafVersion(), '-V, --version')
  .showHelpAfterError();

for (const command of commands) program.addCommand(command);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`leaf: ${message}\n`);
  if (process.env.LEAF_DEBUG && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  process.exitCode = 1;
}
