// Runs the Debian tools the build uses, as plain child processes, and says which command
// failed and what it printed when one does.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Written to the first command's stdin. */
  input?: string | Buffer;
  /** The last command's stdout goes to this file instead of being returned. */
  stdoutFile?: string;
}

type Command = readonly [string, ...string[]];

/** Runs one command; resolves to its stdout. */
export async function run(command: Command, options: RunOptions = {}): Promise<string> {
  return pipeline([command], options);
}

/** Runs `a | b | c`; resolves to the last command's stdout (empty when stdoutFile is set). */
export async function pipeline(commands: readonly Command[], options: RunOptions = {}): Promise<string> {
  const env = options.env ? { ...process.env, ...options.env } : process.env;
  const children = commands.map(([file, ...args]) =>
    spawn(file, args, { cwd: options.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] }),
  );
  for (let i = 0; i + 1 < children.length; i++) children[i].stdout.pipe(children[i + 1].stdin);
  const first = children[0];
  first.stdin.on('error', () => {}); // a command that does not read its input
  first.stdin.end(options.input ?? '');

  const last = children[children.length - 1];
  const chunks: Buffer[] = [];
  let fileDone: Promise<void> = Promise.resolve();
  if (options.stdoutFile) {
    const out = createWriteStream(options.stdoutFile);
    last.stdout.pipe(out);
    fileDone = new Promise((resolve, reject) => {
      out.on('finish', () => resolve());
      out.on('error', reject);
    });
  } else {
    last.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  }

  const results = await Promise.all(
    children.map(
      (child, i) =>
        new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; name: string }>((resolve, reject) => {
          const err: Buffer[] = [];
          child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
          child.on('error', (e) => reject(new Error(`cannot run ${commands[i][0]}: ${e.message}`)));
          child.on('close', (code, signal) =>
            resolve({ code, signal, stderr: Buffer.concat(err).toString(), name: commands[i].join(' ') }),
          );
        }),
    ),
  );
  await fileDone;
  const failed = results.find((r) => r.code !== 0);
  if (failed) {
    const why = failed.signal ? `was killed by ${failed.signal}` : `exited with ${failed.code}`;
    throw new Error(`\`${failed.name}\` ${why}${failed.stderr ? `:\n${failed.stderr.trim()}` : ''}`);
  }
  return Buffer.concat(chunks).toString();
}
