// Each method registers itself on import; adding a method = a file plus one line here.
import './methods/grad-l2.ts';
import './methods/grad-x-input.ts';
import './methods/integrated-gradients.ts';
import './methods/occlusion.ts';
import './methods/contrastive.ts';

export * from './types.ts';
export * from './registry.ts';
export { padInputs, losses, type PaddedInputs } from './loss.ts';
