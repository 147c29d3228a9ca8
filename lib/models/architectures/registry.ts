import type { Architecture } from './types.ts';

const architectures = new Map<string, Architecture>();

export function registerArchitecture(architecture: Architecture): void {
  if (architectures.has(architecture.modelType)) throw new Error(`architecture "${architecture.modelType}" is registered twice`);
  architectures.set(architecture.modelType, architecture);
}

export function supportedModelTypes(): string[] {
  return [...architectures.keys()].sort();
}

export function getArchitecture(modelType: unknown, source = 'config'): Architecture {
  const architecture = typeof modelType === 'string' ? architectures.get(modelType) : undefined;
  if (!architecture) {
    throw new Error(`${source}: unsupported model_type ${JSON.stringify(modelType)}; supported: ${supportedModelTypes().join(', ')}`);
  }
  return architecture;
}
