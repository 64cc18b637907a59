import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * A TypeScript entry point run in its own Node process (SWC on the fly, tsconfig paths honoured), so tests can
 * exercise several application instances that do not share an event loop.
 */
export class NodeProcess {
  private output = '';
  private readonly exited: Promise<number | null>;

  private constructor(
    readonly label: string,
    private readonly child: ChildProcess,
  ) {
    child.stdout!.on('data', (c: Buffer) => (this.output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (this.output += c.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Starts `entry` (a path relative to the repository root) with extra environment variables. */
  static start(label: string, entry: string, env: Record<string, string | undefined> = {}): NodeProcess {
    const child = spawn(process.execPath, ['--import', '@swc-node/register/esm-register', entry], {
      cwd: root,
      env: { ...process.env, NODE_ENV: 'test', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    child.once('exit', () => running.delete(child));
    return new NodeProcess(label, child);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Everything the process printed so far (stdout and stderr). */
  get log(): string {
    return this.output;
  }

  /** Resolves with the first match of `pattern` in the output; rejects on exit or after `timeoutMs`. */
  async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const match = pattern.exec(this.output);
      if (match) return match;
      if (!this.alive) throw new Error(`${this.label} exited before printing ${pattern}:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`${this.label} did not print ${pattern} within ${timeoutMs} ms:\n${this.output}`);
  }

  /** Resolves with the exit code once the process has exited (null when a signal ended it). */
  get exit(): Promise<number | null> {
    return this.exited;
  }

  /** SIGKILL, as in a crash. */
  async kill(): Promise<void> {
    if (this.alive) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  async stop(graceMs = 10_000): Promise<number | null> {
    if (this.alive) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      timer.unref();
    }
    return this.exited;
  }
}
