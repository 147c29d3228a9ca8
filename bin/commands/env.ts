import { Command } from 'commander';
import { addOptions, type OptionSpecs } from '../../lib/util/options.ts';
import { backendNames, describeRuntime, initRuntime, type BackendChoice } from '../../lib/runtime/index.ts';
import { heldWeights } from '../../lib/models/index.ts';
import { formatBytes } from '../../lib/runtime/memory.ts';

interface EnvOptions {
  json: boolean;
  backend: BackendChoice;
  model?: string[];
}

const specs: OptionSpecs<EnvOptions> = {
  json: { flags: '--json', description: 'print RuntimeInfo as JSON', default: false },
  backend: { flags: '--backend <name>', description: 'tensor backend to resolve', default: 'auto', choices: ['auto', ...backendNames()], env: 'LEAF_BACKEND' },
  model: { flags: '--model <dir...>', description: 'also say which dtype each checkpoint\'s weights would be held in here (frozen, as analyze and a distill teacher load them), and their size' },
};

export const envCommand = addOptions(
  new Command('env').description('show the tensor backend, BLAS, threads and versions'),
  specs,
).action(async (options: EnvOptions) => {
  const info = await initRuntime({ backend: options.backend, quiet: true });
  const models = (options.model ?? []).map((dir) => {
    const { dtype, bytes } = heldWeights(dir);
    return { path: dir, dtype, bytes };
  });
  if (options.json) {
    process.stdout.write(`${JSON.stringify(models.length ? { ...info, models } : info, null, 2)}\n`);
    return;
  }
  process.stdout.write(describeRuntime(info));
  for (const model of models) process.stdout.write(`model  ${model.path}: held in ${model.dtype}, ${formatBytes(model.bytes)}\n`);
});
