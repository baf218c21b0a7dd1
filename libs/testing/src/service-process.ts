import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface ServiceProcess {
  child: ChildProcess;
  address: string;
  logs(): string;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** A fresh unix socket address in a private temp directory. */
export function unixAddress(name: string): string {
  return `unix:${path.join(mkdtempSync(path.join(tmpdir(), 'qvm-')), `${name}.sock`)}`;
}

/**
 * Starts a service's main.ts (run with tsx) as a real child process listening on `address`,
 * and resolves once it printed "listening".
 */
export async function startServiceProcess(mainTs: string, address: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', mainTs, '--listen', address, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const check = () => out.includes('listening') && resolve();
    child.stdout!.on('data', check);
    void exited.then((code) => reject(new Error(`${mainTs} exited early (${code}): ${out}`)));
  });
  return {
    child,
    address,
    logs: () => out,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}
