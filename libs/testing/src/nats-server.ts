import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface NatsServer {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts a real nats-server (Debian's package) on a free loopback port. */
export async function startNatsServer(port?: number): Promise<NatsServer> {
  const bin = process.env.NATS_SERVER_BIN ?? 'nats-server';
  if (spawnSync(bin, ['--version']).status !== 0) throw new Error(`${bin} not found: install Debian's nats-server (apt-get install nats-server)`);
  const p = port ?? (await freePort());
  const child = spawn(bin, ['-a', '127.0.0.1', '-p', String(p)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      log += d;
      if (log.includes('Server is ready')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`nats-server exited (${code}): ${log}`)));
  });
  return {
    url: `nats://127.0.0.1:${p}`,
    port: p,
    process: child,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
