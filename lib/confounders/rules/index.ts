// Each rule registers itself on import; adding a rule = a file plus one line here.
import './percentile.ts';
import './absolute.ts';

export * from './registry.ts';
export { quantile } from './percentile.ts';
