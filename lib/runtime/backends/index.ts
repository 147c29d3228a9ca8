// Each backend registers itself; adding one is adding a file and a line here.
import './tfjs-node.ts';
import './native.ts';
import './wasm.ts';
import './cpu.ts';

export { backendNames, getBackendProvider } from './registry.ts';
export type { BackendChoice, BackendName, BackendProvider, LoadedBackend } from './types.ts';

/** What `auto` tries, fastest first. */
export const AUTO_ORDER = ['tfjs-node-gpu', 'tfjs-node', 'native', 'wasm', 'cpu'] as const;
