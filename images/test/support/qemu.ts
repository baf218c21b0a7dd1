// Boots an image in QEMU (TCG, no KVM: the same software-CPU path our soft backend takes)
// with the first serial port on stdio, and lets a test wait for lines and type commands.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

export const QEMU = process.env.QEMU_SYSTEM_I386 ?? 'qemu-system-i386';

/** Whether qemu-system-i386 can be run here. */
export function qemuAvailable(): boolean {
  return spawnSync(QEMU, ['--version'], { stdio: 'ignore' }).status === 0;
}

export class QemuGuest {
  private readonly child: ChildProcess;
  private output = '';
  private readonly started = Date.now();
  private exited: string | undefined;

  constructor(machineArgs: string[]) {
    const args = ['-accel', 'tcg', '-m', '128', '-display', 'none', '-serial', 'stdio', '-monitor', 'none', '-no-reboot', ...machineArgs];
    this.child = spawn(QEMU, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString('latin1')));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString('latin1')));
    this.child.on('exit', (code, signal) => (this.exited = `qemu exited (${signal ?? code})`));
  }

  /** Everything the guest wrote to its serial port so far. */
  get serial(): string {
    return this.output;
  }

  /** Seconds since QEMU was started. */
  get elapsed(): number {
    return (Date.now() - this.started) / 1000;
  }

  /** Waits until the serial output matches; resolves to the seconds since start. */
  async waitFor(pattern: RegExp, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.output)) {
      if (this.exited) throw new Error(`${this.exited} before ${pattern}; serial output:\n${this.tail()}`);
      if (Date.now() > deadline) throw new Error(`no ${pattern} on the serial port within ${timeoutMs / 1000} s; serial output:\n${this.tail()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return this.elapsed;
  }

  /**
   * Types a command on the serial console until its output matches (the shell may still be
   * starting when the first attempt arrives); resolves to the output since the first attempt.
   */
  async command(line: string, expected: RegExp, timeoutMs: number): Promise<string> {
    const from = this.output.length;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.child.stdin!.write(`${line}\n`);
      const retry = Date.now() + 2000;
      while (Date.now() < Math.min(retry, deadline)) {
        const since = this.output.slice(from);
        if (expected.test(since)) return since;
        if (this.exited) throw new Error(`${this.exited} while running \`${line}\`:\n${this.tail()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      if (Date.now() >= deadline) throw new Error(`\`${line}\` printed no ${expected} within ${timeoutMs / 1000} s:\n${this.tail()}`);
    }
  }

  /** Stops QEMU (this test's own process). */
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await gone;
  }

  private tail(): string {
    return this.output.slice(-3000);
  }
}
