import { Command } from 'commander';
import { addOptions, type OptionSpecs } from '../../lib/util/options.ts';
import { backendNames, describeRuntime, initRuntime, type BackendChoice } from '../../lib/runtime/index.ts';

interface EnvOptions {
  json: boolean;
  backend: BackendChoice;
}

const specs: OptionSpecs<EnvOptions> = {
  json: { flags: '--json', description: 'print RuntimeInfo as JSON', default: false },
  backend: { flags: '--backend <name>', description: 'tensor backend to resolve', default: 'auto', choices: ['auto', ...backendNames()], env: 'LEAF_BACKEND' },
};

export const envCommand = addOptions(
  new Command('env').description('show the tensor backend, BLAS, threads and versions'),
  specs,
).action(async (options: EnvOptions) => {
  const info = await initRuntime({ backend: options.backend, quiet: true });
  process.stdout.write(options.json ? `${JSON.stringify(info, null, 2)}\n` : describeRuntime(info));
});
