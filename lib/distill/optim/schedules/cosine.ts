import { registerSchedule } from './registry.ts';

registerSchedule({
  name: 'cosine',
  description: 'half-cosine decay from baseLr to 0 after warm-up (the authors\' scripts)',
  decay: (progress) => 0.5 * (1 + Math.cos(Math.PI * progress)),
});
