import { Command } from 'commander';
import { formatStatus, launchStatus, settled } from '../../lib/launch/index.ts';
import { addOptions, parseNumber, type OptionSpecs } from '../../lib/util/options.ts';

interface StatusFlags {
  wait: boolean;
  interval: number;
  json: boolean;
}

const specs: OptionSpecs<StatusFlags> = {
  wait: { flags: '--wait', description: 'poll until nothing is queued or running; exit 1 unless the output was merged', default: false },
  interval: { flags: '--interval <seconds>', description: 'seconds between polls with --wait', default: 10, parse: parseNumber('--interval', { min: 0.1 }) },
  json: { flags: '--json', description: 'print the status as JSON', default: false },
};

const sleep = (seconds: number) => new Promise((done) => setTimeout(done, seconds * 1000));

export const statusCommand = addOptions(
  new Command('status').description('progress of a launch (analyze, prune --verify or eval with --executor): shards done, queued, running, failed; the merge').argument('<dir>', 'the launch directory (its --out)'),
  specs,
).action(async (dir: string, flags: StatusFlags) => {
  let status = launchStatus(dir);
  let shown = '';
  const show = () => {
    const text = flags.json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status);
    if (text !== shown) process.stdout.write(text);
    shown = text;
  };
  show();
  if (!flags.wait) return;
  while (!settled(status)) {
    await sleep(flags.interval);
    status = launchStatus(dir);
    show();
  }
  if (!status.merged) process.exitCode = 1;
});
