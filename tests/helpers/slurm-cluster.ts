import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { findOnPath } from '../../lib/launch/commands.ts';

/**
 * A real single-node Slurm cluster from Debian's packages (munge, slurmctld, slurmd), run as root
 * without systemd: every daemon in the foreground as a child of this process, configured by a
 * slurm.conf in a fresh temp dir, on ports free at start, with its own munge socket and state
 * directory, so neither a leftover daemon nor the machine's own Slurm can interfere.
 */
export interface SlurmCluster {
  dir: string;
  /** Environment for Slurm clients (sbatch, squeue, ...): SLURM_CONF points at this cluster. */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

const TOOLS = ['munged', 'mungekey', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'scancel', 'sinfo'];

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

/** Pids of processes whose environment holds `entry` exactly (only this cluster's daemons and jobs carry its SLURM_CONF). */
function processesWithEnv(entry: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      if (readFileSync(`/proc/${name}/environ`, 'latin1').split('\0').includes(entry)) pids.push(Number(name));
    } catch {
      // the process ended, or is not ours to read
    }
  }
  return pids;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

function run(tool: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const result = spawnSync(tool, args, { env, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed: ${result.error?.message ?? (result.stderr || result.stdout)}`);
  return result.stdout;
}

function tail(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').slice(-15).join('\n') : '(no log)';
}

export async function startSlurmCluster(): Promise<SlurmCluster> {
  const missing = TOOLS.filter((tool) => !findOnPath(tool, `${process.env.PATH}:/usr/sbin:/sbin`));
  if (missing.length > 0) throw new Error(`Slurm is not installed (${missing.join(', ')} missing): apt-get install -y slurm-wlm munge (.ci/run does)`);
  if (process.getuid?.() !== 0) throw new Error('the Slurm test starts slurmd and slurmctld, which must run as root');
  const dir = mkdtempSync(join(tmpdir(), 'leaf-slurm-'));
  chmodSync(dir, 0o755);
  const children: ChildProcess[] = [];
  const killAll = () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killAll);
  const env: NodeJS.ProcessEnv = { ...process.env, SLURM_CONF: join(dir, 'slurm.conf'), PATH: `${process.env.PATH}:/usr/sbin:/sbin` };
  const daemon = (tool: string, args: string[], log: string) => {
    const child = spawn(tool, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    child.on('exit', (code) => {
      if (code) writeFileSync(join(dir, `${log}.stderr`), stderr);
    });
    children.push(child);
    return child;
  };

  const alive = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    // Jobs first, while slurmd can still collect them (a step daemon left without slurmd lingers).
    spawnSync('scancel', ['--user=root'], { env });
    for (let i = 0; i < 100 && children.some(alive) && (spawnSync('squeue', ['-h', '-o', '%i'], { env, encoding: 'utf8' }).stdout ?? '').trim(); i++) await sleep(100);
    for (const child of [...children].reverse()) if (alive(child)) child.kill('SIGTERM');
    for (let i = 0; i < 100 && children.some(alive); i++) await sleep(100);
    killAll();
    process.removeListener('exit', killAll);
    // Whatever this cluster started and is still running carries its SLURM_CONF in its environment.
    for (const pid of processesWithEnv(`SLURM_CONF=${env.SLURM_CONF}`)) if (pid !== process.pid) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const munge = join(dir, 'munge');
    mkdirSync(munge, { mode: 0o711 });
    run('mungekey', ['--create', `--keyfile=${join(munge, 'munge.key')}`], env);
    chmodSync(join(munge, 'munge.key'), 0o600);
    const socket = join(munge, 'munge.socket');
    daemon('munged', ['--foreground', '--force', `--socket=${socket}`, `--key-file=${join(munge, 'munge.key')}`, `--log-file=${join(dir, 'munged.log')}`, `--pid-file=${join(munge, 'munged.pid')}`, `--seed-file=${join(munge, 'seed')}`], 'munged');
    for (let i = 0; i < 100 && !existsSync(socket); i++) await sleep(100);
    if (!existsSync(socket)) throw new Error(`munged did not start:\n${tail(join(dir, 'munged.log'))}`);

    for (const sub of ['state', 'spool']) mkdirSync(join(dir, sub));
    const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
    const name = `leaf${process.pid}`;
    writeFileSync(
      env.SLURM_CONF!,
      [
        `ClusterName=${name}`,
        'SlurmctldHost=localhost',
        `SlurmctldPort=${ctldPort}`,
        `SlurmdPort=${slurmdPort}`,
        'AuthType=auth/munge',
        'CredType=cred/munge',
        `AuthInfo=socket=${socket}`,
        'SlurmUser=root',
        'SlurmdUser=root',
        `StateSaveLocation=${join(dir, 'state')}`,
        `SlurmdSpoolDir=${join(dir, 'spool')}`,
        `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`,
        `SlurmdPidFile=${join(dir, 'slurmd.pid')}`,
        `SlurmctldLogFile=${join(dir, 'slurmctld.log')}`,
        `SlurmdLogFile=${join(dir, 'slurmd.log')}`,
        'ProctrackType=proctrack/linuxproc',
        'TaskPlugin=task/none',
        'SelectType=select/cons_tres',
        'SelectTypeParameters=CR_CPU',
        'JobAcctGatherType=jobacct_gather/none',
        'AccountingStorageType=accounting_storage/none',
        'JobCompType=jobcomp/none',
        'MpiDefault=none',
        'ReturnToService=2',
        // Finished jobs stay visible in squeue long enough for the launcher to see how they ended.
        'MinJobAge=600',
        `NodeName=leafnode NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=${availableParallelism()} State=UNKNOWN`,
        'PartitionName=leaf Nodes=leafnode Default=YES MaxTime=INFINITE State=UP',
        '',
      ].join('\n'),
    );
    daemon('slurmctld', ['-D', '-i', '-f', env.SLURM_CONF!], 'slurmctld');
    daemon('slurmd', ['-D', '-f', env.SLURM_CONF!, '-N', 'leafnode'], 'slurmd');
    let state = '';
    for (let i = 0; i < 300 && !/idle/.test(state); i++) {
      await sleep(200);
      state = spawnSync('sinfo', ['-h', '-N', '-o', '%T'], { env, encoding: 'utf8' }).stdout ?? '';
    }
    if (!/idle/.test(state))
      throw new Error(`the Slurm node did not come up (sinfo: "${state.trim()}")\nslurmctld:\n${tail(join(dir, 'slurmctld.log'))}\nslurmd:\n${tail(join(dir, 'slurmd.log'))}`);
    return { dir, env, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
