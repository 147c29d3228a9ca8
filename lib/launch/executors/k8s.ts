import { createHash } from 'node:crypto';
import { mergeLine, shardTaskLines } from '../shell.ts';
import type { Executor, LaunchPlan } from '../types.ts';
import { registerExecutor } from './registry.ts';

/** In the image, leaf is a command on PATH (the launching machine's node path means nothing there). */
const IMAGE_LEAF = ['leaf'];

const jobName = (plan: LaunchPlan) => `leaf-${plan.command}-${createHash('sha256').update(plan.dir).digest('hex').slice(0, 8)}`;

function podSpec(plan: LaunchPlan, script: string[]) {
  const { image, volumeClaim, cpusPerTask, mem } = plan.settings;
  return {
    restartPolicy: 'Never',
    containers: [
      {
        name: 'leaf',
        image: image ?? 'leaf:latest',
        workingDir: plan.cwd,
        command: ['/bin/bash', '-c', script.join('\n')],
        env: [{ name: 'OPENBLAS_NUM_THREADS', value: String(cpusPerTask) }],
        resources: { requests: { cpu: String(cpusPerTask), ...(mem ? { memory: mem } : {}) } },
        ...(volumeClaim ? { volumeMounts: [{ name: 'work', mountPath: plan.cwd }] } : {}),
      },
    ],
    ...(volumeClaim ? { volumes: [{ name: 'work', persistentVolumeClaim: { claimName: volumeClaim } }] } : {}),
  };
}

/**
 * A Kubernetes Indexed Job (one completion index per shard; `--shard auto` reads
 * JOB_COMPLETION_INDEX) and the merge Job, as JSON manifests for `kubectl apply -f`. Kubernetes has
 * no dependency between Jobs: apply the merge Job once the shard Job has completed. Written, not
 * submitted, and not tested on a Kubernetes cluster here.
 */
const k8s: Executor = {
  name: 'k8s',
  description: 'a Kubernetes Indexed Job manifest (with --dry-run only: leaf prints it, kubectl applies it)',
  render(plan) {
    const name = jobName(plan);
    const shardJob = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name, labels: { app: 'leaf', 'leaf/command': plan.command } },
      spec: {
        completionMode: 'Indexed',
        completions: plan.shards,
        parallelism: plan.shards,
        backoffLimit: plan.shards,
        template: { spec: podSpec(plan, shardTaskLines(plan, IMAGE_LEAF, '"$JOB_COMPLETION_INDEX"', 'k8s $(hostname) $(date -u +%FT%TZ)')) },
      },
    };
    const mergeJob = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: `${name}-merge`, labels: { app: 'leaf', 'leaf/command': plan.command } },
      spec: { backoffLimit: 0, template: { spec: podSpec(plan, ['set -euo pipefail', mergeLine(plan, IMAGE_LEAF)]) } },
    };
    return {
      files: { 'job.json': `${JSON.stringify(shardJob, null, 2)}\n`, 'merge-job.json': `${JSON.stringify(mergeJob, null, 2)}\n` },
      roles: { shards: 'job.json', merge: 'merge-job.json' },
    };
  },
  dryRun(plan, _files, shards) {
    const { files } = this.render(plan);
    const partial = shards.length < plan.shards ? [`# Only shards ${shards.join(', ')} lack a completion marker; the others finish at once (their runs are complete).`] : [];
    return [
      `# Kubernetes Indexed Job for leaf ${plan.command}: ${plan.shards} shards. The image must have leaf on PATH, and ${plan.dir}`,
      `# must be on shared storage mounted at the same path in every pod (--volume-claim). Apply the shard Job, wait for it,`,
      '# then apply the merge Job:',
      `#   kubectl apply -f job.json && kubectl wait --for=condition=complete --timeout=-1s job/${jobName(plan)} && kubectl apply -f merge-job.json`,
      ...partial,
      '==> job.json',
      files['job.json'],
      '==> merge-job.json',
      files['merge-job.json'],
    ].join('\n');
  },
  checkSubmit() {
    throw new Error('--executor k8s does not submit: add --dry-run to print the Indexed Job manifest, then apply it with kubectl');
  },
  submit() {
    throw new Error('--executor k8s does not submit: add --dry-run to print the Indexed Job manifest, then apply it with kubectl');
  },
  query() {
    throw new Error('--executor k8s launches are not tracked by leaf (kubectl get jobs shows them); leaf status reads only their completion markers');
  },
  cancel() {
    throw new Error('--executor k8s does not manage jobs: kubectl delete job removes them');
  },
};

registerExecutor(k8s);
