import { registerSchedule } from './registry.ts';

registerSchedule({ name: 'constant', description: 'baseLr after warm-up', decay: () => 1 });
