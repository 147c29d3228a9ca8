#!/usr/bin/env node
// The CLI is written in TypeScript and run through tsx, so there is no build step between a
// checkout and a working `leaf`.
import { register } from 'tsx/esm/api';

register();
await import('./leaf.ts');
