import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

/** Environment variable naming the folder where every Redis the harness starts records its pid. */
export const PID_REGISTRY_ENV = 'NEST_SCALE_TEST_PID_DIR';

export function hasRedisServerBinary(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

export interface StartRedisOptions {
  /** Port to listen on; a free one is chosen when omitted. */
  port?: number;
  /** Extra `redis-server` arguments, e.g. `['--cluster-enabled', 'yes']`. */
  args?: string[];
}

/**
 * A throwaway redis-server owned by the test that started it. It keeps nothing on disk, and it is killed when
 * the process that started it exits and, as a last resort, by the global teardown (through the pid registry).
 */
export class RedisServer {
  private child: ChildProcess | undefined;
  private readonly dir: string;

  private constructor(
    readonly port: number,
    private readonly args: string[],
  ) {
    this.dir = mkdtempSync(join(tmpdir(), `nest-scale-redis-${port}-`));
  }

  static async start(options: StartRedisOptions = {}): Promise<RedisServer> {
    if (!hasRedisServerBinary()) {
      throw new Error(
        'redis-server is not on PATH, so the harness cannot start a throwaway Redis. ' +
          'Install it (Debian/Ubuntu: `apt-get install -y redis-server`; macOS: `brew install redis`).',
      );
    }
    const server = new RedisServer(options.port ?? (await freePort()), options.args ?? []);
    await server.startProcess();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGKILL: the server vanishes mid-flight, as in a crash. */
  async kill(): Promise<void> {
    await this.terminate('SIGKILL');
  }

  /** SIGTERM: an orderly stop. */
  async stop(): Promise<void> {
    await this.terminate('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Starts the server again on the same port (empty: nothing was persisted). */
  async restart(): Promise<void> {
    if (this.running) await this.terminate('SIGKILL');
    mkdirSync(this.dir, { recursive: true });
    await this.startProcess();
  }

  private async startProcess(): Promise<void> {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        this.dir,
        '--logfile',
        '',
        ...this.args,
      ],
      { stdio: 'ignore' },
    );
    this.child = child;
    registerPid(child.pid);
    untilExit.add(child);
    child.once('exit', () => untilExit.delete(child));
    await waitForPing(this.port, 10_000, () => child.exitCode !== null);
  }

  private async terminate(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  }
}

const untilExit = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of untilExit) child.kill('SIGKILL');
});

function registerPid(pid: number | undefined): void {
  const dir = process.env[PID_REGISTRY_ENV];
  if (dir && pid) writeFileSync(join(dir, String(pid)), '');
}

/** Resolves once `PING` answers `PONG` on the port; rejects after `timeoutMs` or when `gaveUp()` says so. */
export async function waitForPing(port: number, timeoutMs: number, gaveUp: () => boolean = () => false): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (gaveUp()) throw new Error(`redis-server on port ${port} exited during start-up`);
    if (await ping(port)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`);
}

export function ping(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}
