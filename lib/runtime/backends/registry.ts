import type { BackendName, BackendProvider } from './types.ts';

const providers = new Map<BackendName, BackendProvider>();

export function registerBackendProvider(provider: BackendProvider): void {
  providers.set(provider.name, provider);
}

export function getBackendProvider(name: BackendName): BackendProvider {
  const provider = providers.get(name);
  if (!provider) throw new Error(`unknown backend "${name}" (known: ${[...providers.keys()].join(', ')})`);
  return provider;
}

export function backendNames(): BackendName[] {
  return [...providers.keys()];
}
