import type { AttributionMethod } from './types.ts';

const methods = new Map<string, AttributionMethod>();

export function registerAttributionMethod(method: AttributionMethod): void {
  if (methods.has(method.name)) throw new Error(`attribution method "${method.name}" is registered twice`);
  methods.set(method.name, method);
}

export function attributionMethodNames(): string[] {
  return [...methods.keys()];
}

export function getAttributionMethod(name: string): AttributionMethod {
  const method = methods.get(name);
  if (!method) throw new Error(`unknown attribution method "${name}" (known: ${attributionMethodNames().join(', ')})`);
  return method;
}
