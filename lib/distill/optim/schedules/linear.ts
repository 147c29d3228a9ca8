import { registerSchedule } from './registry.ts';

registerSchedule({ name: 'linear', description: 'linear decay from baseLr to 0 after warm-up', decay: (progress) => 1 - progress });
