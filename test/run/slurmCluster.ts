/**
 * A one-node Slurm cluster on 127.0.0.1 for the tests: munged, slurmctld and slurmd from Debian's
 * packages (slurm-wlm, munge), each with its own key, ports, state and logs in a temporary folder.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, hostname, totalmem } from 'node:os';
import { join } from 'node:path';

const DAEMONS = ['munged', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'scontrol', 'sinfo'];

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0 || existsSync(`/usr/sbin/${command}`);
}

/** Why a cluster cannot be started here, or null when it can. */
export function slurmUnavailable(): string | null {
  const missing = DAEMONS.filter((d) => !onPath(d));
  if (missing.length) return `Slurm is not installed (${missing.join(', ')} missing; Debian: apt-get install slurm-wlm munge)`;
  if (process.getuid?.() !== 0) return 'slurmd must run as root';
  return null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface SlurmCluster {
  /** The environment Slurm's commands need (SLURM_CONF). */
  readonly env: NodeJS.ProcessEnv;
  readonly folder: string;
  run(command: string, args: readonly string[]): string;
  stop(): void;
}

function daemon(command: string, args: readonly string[], env: NodeJS.ProcessEnv): void {
  const path = existsSync(`/usr/sbin/${command}`) ? `/usr/sbin/${command}` : command;
  const r = spawnSync(path, args, { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
}

export async function startSlurmCluster(folder: string): Promise<SlurmCluster> {
  const munge = join(folder, 'munge');
  for (const dir of ['state', 'spool', 'log']) mkdirSync(join(folder, dir), { recursive: true });
  mkdirSync(munge, { recursive: true, mode: 0o711 });
  writeFileSync(join(munge, 'munge.key'), randomBytes(128), { mode: 0o600 });
  const socket = join(munge, 'munge.socket');
  daemon('munged', ['--force', `--key-file=${join(munge, 'munge.key')}`, `--socket=${socket}`, `--pid-file=${join(munge, 'munged.pid')}`, `--log-file=${join(munge, 'munged.log')}`, `--seed-file=${join(munge, 'munged.seed')}`], process.env);
  const node = hostname().split('.')[0];
  const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
  const conf = join(folder, 'slurm.conf');
  writeFileSync(
    conf,
    [
      'ClusterName=featlabtest',
      `SlurmctldHost=${node}(127.0.0.1)`,
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${slurmdPort}`,
      'AuthType=auth/munge',
      'CredType=cred/munge',
      `AuthInfo=socket=${socket}`,
      'SlurmUser=root',
      'SlurmdUser=root',
      `StateSaveLocation=${join(folder, 'state')}`,
      `SlurmdSpoolDir=${join(folder, 'spool')}`,
      `SlurmctldPidFile=${join(folder, 'slurmctld.pid')}`,
      `SlurmdPidFile=${join(folder, 'slurmd.pid')}`,
      `SlurmctldLogFile=${join(folder, 'log', 'slurmctld.log')}`,
      `SlurmdLogFile=${join(folder, 'log', 'slurmd.log')}`,
      // No cgroups in a container: processes tracked by their parent, no task binding.
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'JobAcctGatherType=jobacct_gather/none',
      'AccountingStorageType=accounting_storage/none',
      'JobCompType=jobcomp/none',
      'SchedulerType=sched/backfill',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      'MpiDefault=none',
      'ReturnToService=2',
      'MinJobAge=600',
      'KillWait=10',
      `NodeName=${node} NodeAddr=127.0.0.1 CPUs=${cpus().length} RealMemory=${Math.floor((totalmem() / 2 ** 20) * 0.8)} State=UNKNOWN`,
      'PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP',
      '',
    ].join('\n'),
  );
  const env = { ...process.env, SLURM_CONF: conf };
  daemon('slurmctld', ['-f', conf], env);
  daemon('slurmd', ['-f', conf], env);
  const run = (command: string, args: readonly string[]) => execFileSync(command, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const deadline = Date.now() + 30_000;
  for (;;) {
    let state = '';
    try {
      state = run('sinfo', ['--noheader', '--format=%T']).trim();
    } catch {
      // slurmctld not answering yet
    }
    if (state === 'idle') break;
    if (Date.now() > deadline) throw new Error(`the test cluster did not come up (node state "${state}"); logs in ${join(folder, 'log')}`);
    await new Promise((r) => setTimeout(r, 300));
  }
  const stop = () => {
    // Jobs first: their steps would outlive the daemons.
    try {
      run('scancel', ['--partition=test']);
      for (let i = 0; i < 100 && run('squeue', ['--noheader']).trim() !== ''; i++) spawnSync('sleep', ['0.1']);
    } catch {
      // no controller
    }
    try {
      run('scontrol', ['shutdown']);
    } catch {
      // already down
    }
    const pids: number[] = [];
    for (const pidFile of [join(folder, 'slurmd.pid'), join(folder, 'slurmctld.pid'), join(munge, 'munged.pid')]) {
      try {
        const pid = Number(readFileSync(pidFile, 'utf8').trim());
        process.kill(pid, 'SIGTERM');
        pids.push(pid);
      } catch {
        // not running
      }
    }
    // Wait for the daemons to exit: one still saving its state would race the removal of the folder.
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 100 && pids.some(alive); i++) spawnSync('sleep', ['0.1']);
  };
  return { env, folder, run, stop };
}
