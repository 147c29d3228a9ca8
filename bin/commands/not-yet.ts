import { Command } from 'commander';

/** A command that exists in the CLI but whose stage has not landed: it says so and fails. */
export function notYetAvailable(name: string, summary: string): Command {
  return new Command(name)
    .description(`${summary} (not yet available)`)
    .allowUnknownOption()
    .allowExcessArguments()
    .action(() => {
      process.stderr.write(`leaf ${name}: not yet available in this version of leaf\n`);
      process.exitCode = 2;
    });
}
