import { Command } from 'commander';
import { addOptions, type OptionSpecs } from '../../lib/util/options.ts';
import { backendNames, describeRuntime, initRuntime, type BackendChoice } from '../../lib/runtime/index.ts';
import { holdCandidate } from '../../lib/models/index.ts';
import { estimateWeightsMemory, formatBytes, memoryLimit, planHolds } from '../../lib/runtime/memory.ts';

interface EnvOptions {
  json: boolean;
  backend: BackendChoice;
  model?: string[];
}

const specs: OptionSpecs<EnvOptions> = {
  json: { flags: '--json', description: 'print RuntimeInfo as JSON', default: false },
  backend: { flags: '--backend <name>', description: 'tensor backend to resolve', default: 'auto', choices: ['auto', ...backendNames()], env: 'LEAF_BACKEND' },
  model: { flags: '--model <dir...>', description: 'also say which dtype each checkpoint\'s weights would be held in here by --hold auto (frozen, weights alone: analyze and distill also count their activations), why, and their size' },
};

export const envCommand = addOptions(
  new Command('env').description('show the tensor backend, BLAS, threads and versions'),
  specs,
).action(async (options: EnvOptions) => {
  const info = await initRuntime({ backend: options.backend, quiet: true });
  const limit = memoryLimit(info.backend);
  const models = (options.model ?? []).map((dir) => {
    const candidate = holdCandidate('model', dir);
    const [{ held, reason }] = planHolds([candidate], 'auto', limit, (held) => estimateWeightsMemory(held, ['model'])).holds;
    return { path: dir, dtype: held.dtype, bytes: held.bytes, hold: reason, float32_bytes: candidate.float32.bytes };
  });
  if (options.json) {
    process.stdout.write(`${JSON.stringify(models.length ? { ...info, models } : info, null, 2)}\n`);
    return;
  }
  process.stdout.write(describeRuntime(info));
  for (const model of models)
    process.stdout.write(`model  ${model.path}: held in ${model.dtype}, ${formatBytes(model.bytes)} (${model.hold}; float32: ${formatBytes(model.float32_bytes)})\n`);
});
