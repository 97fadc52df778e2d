/**
 * A baseline running in a persistent child process (PyTorch in Python, jax-js under Node 24)
 * that the benchmark drives with a line protocol, so that its rounds interleave with tread's in
 * one run (a noisy neighbour then hurts every contender alike).
 *
 * The protocol: the child prints one JSON line when it is ready, then answers each command line
 * on its stdin with exactly one JSON line on its stdout ({"error": "..."} for a failed command).
 * Anything else it wants to say goes to stderr, which is kept for the error message.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

export type Answer = Record<string, unknown>;

export class LineChild {
  readonly name: string;
  private proc: ChildProcessWithoutNullStreams;
  private waiting: { resolve: (a: Answer) => void; reject: (e: Error) => void }[] = [];
  private stderr = '';
  private exited: string | null = null;

  private constructor(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string) {
    this.name = name;
    this.proc = spawn(cmd, args, { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stderr.setEncoding('utf8');
    this.proc.stderr.on('data', (s: string) => {
      this.stderr = (this.stderr + s).slice(-4000);
    });
    createInterface({ input: this.proc.stdout }).on('line', (line) => {
      const w = this.waiting.shift();
      if (!w) return;
      let a: Answer;
      try {
        a = JSON.parse(line) as Answer;
      } catch {
        w.reject(new Error(`${this.name}: not a JSON answer: ${line.slice(0, 200)}`));
        return;
      }
      if (typeof a.error === 'string') w.reject(new Error(`${this.name}: ${a.error}`));
      else w.resolve(a);
    });
    const fail = (why: string) => {
      this.exited = why;
      const err = new Error(`${this.name} ${why}${this.stderr ? `: ${this.stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`);
      for (const w of this.waiting.splice(0)) w.reject(err);
    };
    this.proc.on('error', (e) => fail(`could not start (${e.message})`));
    this.proc.on('exit', (code, signal) => fail(`exited (${signal ?? `status ${code}`})`));
  }

  /** Starts the child and waits for its ready line (which it returns). */
  static async start(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<{ child: LineChild; ready: Answer }> {
    const child = new LineChild(name, cmd, args, env, cwd);
    const ready = await new Promise<Answer>((resolve, reject) => child.waiting.push({ resolve, reject }));
    return { child, ready };
  }

  /** Sends one command line; resolves with the child's answer. */
  ask(command: string): Promise<Answer> {
    if (this.exited) return Promise.reject(new Error(`${this.name} ${this.exited}`));
    return new Promise<Answer>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.proc.stdin.write(command + '\n');
    });
  }

  /** Asks it to quit (closing stdin) and waits a moment for it to go; kills it if it does not. */
  async close(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((r) => this.proc.once('exit', () => r()));
    this.proc.stdin.end('quit\n');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(timer);
  }
}
