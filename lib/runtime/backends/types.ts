/** What `--backend` / LEAF_BACKEND accept. */
export type BackendChoice = 'auto' | 'native' | 'wasm' | 'cpu' | 'tfjs-node' | 'tfjs-node-gpu';
export type BackendName = Exclude<BackendChoice, 'auto'>;

/** A backend that loaded: the tfjs backend to activate and what to report about it. */
export interface LoadedBackend {
  tfBackend: string;
  blas: string | null;
  threads: number;
  versions: Record<string, string>;
}

/**
 * One way of running tensors. `load` registers whatever the backend needs with tfjs (once) and
 * throws an Error whose message is the reason when the backend cannot be used here.
 */
export interface BackendProvider {
  name: BackendName;
  load(): Promise<LoadedBackend>;
}
