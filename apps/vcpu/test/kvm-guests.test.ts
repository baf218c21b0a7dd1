/**
 * The test guests under the KVM backend, through Vm as the vcpu service runs them: a CPU
 * thread in KVM_RUN, the IRQ deadline thread raising timer interrupts, real timer service
 * process. Time budgets come from libs/kvm's calibration run (kvm_pvm emulates real mode
 * at ~1.6 M instructions/s; hardware KVM is far faster). Without /dev/kvm every KVM test
 * is skipped under a name saying so, and the soft backend covers the same guests
 * (soft-guests.test.ts and the soft pit-irq test below).
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { fileURLToPath } from 'node:url';
import { Kvm } from '@quasivm/kvm';
import { startServiceProcess, unixAddress, type ServiceProcess } from '@quasivm/testing';
import { budgetMs, calibration } from '../../../libs/kvm/test/support/calibration.js';
import { guestImage } from '../../../libs/kvm/test/support/guest-images.js';
import { kvmUnavailableReason } from '../src/kvm/kvm-device-path.js';
import { textToSet2 } from '../src/machine/keymap.js';
import { Vm, type VmSpec } from '../src/vm.js';

const SKIP = 'skipped: /dev/kvm not available';
const kvmMissing = kvmUnavailableReason();
const modules = Kvm.backendModules().join(', ') || 'unknown module';
const TIMER_MAIN = fileURLToPath(new URL('../../timer/src/main.ts', import.meta.url));
/** Starting a CPU thread (tsx in a worker) and the VM, on a shared 2-core host. */
const STARTUP_MS = 15_000;

const kvmTest = (name: string, body: () => Promise<void>, timeoutMs: number) =>
  kvmMissing ? test.skip(`${name} (${SKIP})`, body) : test(`${name} [${modules}]`, body, timeoutMs + STARTUP_MS);

const hex = (v: number) => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;

/** What cpu-loop must print for its default 100,000 iterations from 0x12345678. */
function cpuLoopLine(): string {
  let x = 0x12345678;
  let sum = 0;
  for (let i = 0; i < 100_000; i++) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    sum = (sum + x) >>> 0;
  }
  return `cpu-loop: iterations=0x000186a0 x=${hex(x)} sum=${hex(sum)}\r\n`;
}
let vm: Vm | null = null;
afterEach(async () => {
  await vm?.stop();
  vm = null;
});

async function boot(spec: Omit<VmSpec, 'id'>, name: string): Promise<Vm> {
  vm = await Vm.create({ id: `kvm-${name}-${process.pid}`, ramMiB: 2, backend: 'kvm', ...spec });
  vm.start();
  return vm;
}

describe('KVM backend: the test guests through Vm', () => {
  kvmTest(
    'keys sent to the VM reach the guest through the i8042 as set-1 scan codes',
    async () => {
      const v = await boot({ firmware: guestImage('keyboard-echo') }, 'keys');
      await v.waitForSerial('keyboard-echo: ready', STARTUP_MS);
      v.sendKeys(textToSet2('aB'));
      const log = await v.waitForSerial(/(key=\S+\s+){4}/, budgetMs({ exits: 2000 }));
      expect([...log.matchAll(/key=0x([0-9a-f]+)/g)].map((m) => Number.parseInt(m[1], 16))).toEqual([0x1e, 0x9e, 0x2a, 0x30]);
    },
    budgetMs({ exits: 4000 }),
  );

  kvmTest(
    'serial-hello prints its line on COM1',
    async () => {
      const v = await boot({ firmware: guestImage('serial-hello') }, 'hello');
      expect(v.backend).toBe('kvm');
      await v.waitForSerial('serial-hello: Hello from quasivm!\r\n', STARTUP_MS);
      expect(v.serialLog).toBe('serial-hello: Hello from quasivm!\r\n');
      // The final cli; hlt waits inside KVM_RUN (in-kernel irqchip); the next kick (the main
      // thread probes once a second) finds the vCPU halted with interrupts off, and the VM says so.
      expect(await v.waitForState(['halted'], 2_000 + budgetMs({ exits: 10 }))).toBe('halted');
      expect(v.exitReason).toBe('HLT with interrupts disabled');
    },
    budgetMs({ exits: 200 }),
  );

  kvmTest(
    'reset gets a guest halted inside KVM_RUN out with a kick and starts it again at the reset vector',
    async () => {
      const v = await boot({ firmware: guestImage('serial-hello') }, 'reset');
      await v.waitForSerial('serial-hello: Hello from quasivm!\r\n', STARTUP_MS);
      const resets: unknown[] = [];
      v.on('event', (e) => resets.push(e));
      v.reset();
      await v.waitForSerial('serial-hello: Hello from quasivm!\r\nserial-hello: Hello from quasivm!\r\n', budgetMs({ exits: 200 }));
      expect(resets).toContainEqual(expect.objectContaining({ kind: 'reset' }));
    },
    budgetMs({ exits: 400 }),
  );

  // About one second of spinning on this host, so a pause can land between the lines on hardware KVM.
  const spin = Math.min(0xffff_ffff, Math.round(calibration?.instructionsPerSecond ?? 1e6) / 2);
  const spinBudget = budgetMs({ instructions: 2 * spin, exits: 200 });
  kvmTest(
    'two-lines: paused after the first line nothing more appears; resumed, the second line comes',
    async () => {
      const v = await boot({ firmware: guestImage('two-lines', { param0: spin }) }, 'two-lines');
      await v.waitForSerial('two-lines: first\r\n', STARTUP_MS);
      v.pause();
      // The kick (immediate_exit + a signal to the CPU thread) ends KVM_RUN mid-spin.
      await v.waitForState(['paused'], spinBudget);
      const pausedLog = v.serialLog;
      await new Promise((r) => setTimeout(r, 300));
      expect(v.serialLog).toBe(pausedLog);
      expect(v.serialLog).not.toContain('second');
      v.resume();
      await v.waitForSerial('two-lines: second\r\n', spinBudget);
      expect(v.serialLog).toBe('two-lines: first\r\ntwo-lines: second\r\n');
    },
    2 * spinBudget,
  );

  kvmTest(
    'triple-fault ends crashed, naming the exit, with a register dump',
    async () => {
      const v = await boot({ firmware: guestImage('triple-fault') }, 'triple');
      expect(await v.waitForState(['crashed'], STARTUP_MS)).toBe('crashed');
      expect(v.serialLog).toBe('triple-fault: loading an empty IDT\r\n');
      // Hardware KVM: #UD -> #GP -> #DF cannot be delivered, SHUTDOWN. kvm_pvm: its emulator fails on the ud2.
      expect(v.exitReason).toMatch(/^KVM_EXIT_(SHUTDOWN: .*triple fault|INTERNAL_ERROR: emulation failure .*instruction bytes fetched 0f 0b)/);
      expect(v.exitReason).toMatch(/ at 0xf000:0x[0-9a-f]{8}; eax=/);
      expect(v.registers?.cs).toBe('0xf000');
      console.log(`triple-fault on ${modules}: ${v.exitReason.split(' at ')[0]}`);
    },
    budgetMs({ exits: 200 }),
  );

  kvmTest(
    'cpu-loop prints the xorshift32 checksum of its 100,000 iterations',
    async () => {
      const v = await boot({ firmware: guestImage('cpu-loop') }, 'cpu-loop');
      await v.waitForSerial(/iterations=.*\r\n/, budgetMs({ instructions: 1_200_000, exits: 300 }));
      expect(v.serialLog).toBe(`cpu-loop: start\r\n${cpuLoopLine()}`);
    },
    budgetMs({ instructions: 1_200_000, exits: 300 }),
  );

  test(`'auto' picks kvm when ${process.env.QUASIVM_KVM_PATH || '/dev/kvm'} opens, soft otherwise; 'kvm' without it fails clearly`, async () => {
    const auto = await Vm.create({ id: 'auto', backend: 'auto', firmware: guestImage('serial-hello'), ramMiB: 2 });
    expect(auto.backend).toBe(kvmMissing ? 'soft' : 'kvm');
    const saved = process.env.QUASIVM_KVM_PATH;
    process.env.QUASIVM_KVM_PATH = '/nonexistent/kvm';
    try {
      await expect(Vm.create({ id: 'no-kvm', backend: 'kvm', firmware: guestImage('serial-hello'), ramMiB: 2 })).rejects.toThrow(/backend "kvm" needs \/nonexistent\/kvm: open failed: ENOENT/);
      expect((await Vm.create({ id: 'auto-soft', backend: 'auto', firmware: guestImage('serial-hello'), ramMiB: 2 })).backend).toBe('soft');
    } finally {
      if (saved === undefined) delete process.env.QUASIVM_KVM_PATH;
      else process.env.QUASIVM_KVM_PATH = saved;
    }
  });
});

describe('pit-irq: IRQ 0 from the timer service process, on both backends', () => {
  let timer: ServiceProcess;
  beforeAll(async () => {
    timer = await startServiceProcess(TIMER_MAIN, unixAddress('timer'));
  });
  afterAll(async () => {
    await timer?.stop('SIGKILL');
  });
  /** Reload 11932: 1193182 Hz / 11932 = 100 Hz, so 10 interrupts take 100 ms of guest time. */
  const PERIOD_MS = 10;
  const devices = () => [{ device: 'timer', address: timer.address }];

  kvmTest(
    'the guest programs the remote PIT and counts 10 IRQ 0 delivered on time by KVM_IRQ_LINE',
    async () => {
      const v = await boot({ firmware: guestImage('pit-irq'), devices: devices() }, 'pit-irq');
      await v.waitForSerial('pit-irq: counting\r\n', STARTUP_MS);
      const t0 = performance.now();
      await v.waitForSerial('pit-irq: received=', 10 * PERIOD_MS + budgetMs({ exits: 300 }));
      const elapsed = performance.now() - t0;
      await v.waitForSerial(/received=.*\r\n/, budgetMs({ exits: 100 }));
      expect(v.serialLog).toBe('pit-irq: counting\r\npit-irq: received=0x0000000a\r\n');
      // Paced by the guest clock, not a burst: ten edges span nine periods (the 'counting' line
      // reaches this thread a little after the PIT was programmed, so allow one period).
      expect(elapsed).toBeGreaterThanOrEqual(8 * PERIOD_MS);
      const stats = await v.stats();
      expect(stats?.ioCounts.timer.writes).toBeGreaterThanOrEqual(3);
      console.log(`pit-irq under KVM: 10 IRQ 0 in ${elapsed.toFixed(0)} ms (100 Hz programmed)`);
    },
    budgetMs({ exits: 600 }) + 10 * PERIOD_MS,
  );

  kvmTest(
    'paused while counting IRQ 0, guest time stands still (timer deadlines wait); resumed, the count completes',
    async () => {
      const v = await boot({ firmware: guestImage('pit-irq', { param1: 30 }), devices: devices() }, 'pit-pause');
      await v.waitForSerial('pit-irq: counting\r\n', STARTUP_MS);
      v.pause();
      await v.waitForState(['paused'], budgetMs({ exits: 50 }));
      const before = (await v.stats())!.guestTimeNs;
      await new Promise((r) => setTimeout(r, 500));
      const after = (await v.stats())!.guestTimeNs;
      expect(after).toBe(before);
      expect(v.serialLog).toBe('pit-irq: counting\r\n');
      v.resume();
      await v.waitForSerial(/received=.*\r\n/, 30 * PERIOD_MS + budgetMs({ exits: 300 }));
      expect(v.serialLog).toBe('pit-irq: counting\r\npit-irq: received=0x0000001e\r\n');
    },
    budgetMs({ exits: 600 }) + 30 * PERIOD_MS + 1_000,
  );

  test('soft backend: the same guest counts 10 IRQ 0 from the remote PIT (guest time from instructions)', async () => {
    vm = await Vm.create({ id: `soft-pit-irq-${process.pid}`, backend: 'soft', firmware: guestImage('pit-irq'), devices: devices(), ramMiB: 2, realtime: false });
    vm.start();
    await vm.waitForSerial(/received=.*\r\n/, 30_000);
    expect(vm.serialLog).toBe('pit-irq: counting\r\npit-irq: received=0x0000000a\r\n');
  });
});

describe('soft backend: the same guests (what covers them where /dev/kvm is missing)', () => {
  const soft = async (name: string, params: { param0?: number } = {}) => {
    vm = await Vm.create({ id: `soft-${name}-${process.pid}`, backend: 'soft', firmware: guestImage(name, params), ramMiB: 2, realtime: false });
    vm.start();
    return vm;
  };

  test('two-lines: paused after the first line nothing more appears; resumed, the second line comes', async () => {
    // The compiled spin runs at a few G instructions/s: 2 G iterations outlast the pause's round trip by far.
    const v = await soft('two-lines', { param0: 2_000_000_000 });
    await v.waitForSerial('two-lines: first\r\n', 20_000);
    v.pause();
    await v.waitForState(['paused'], 10_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(v.serialLog).toBe('two-lines: first\r\n');
    v.resume();
    await v.waitForSerial('two-lines: second\r\n', 120_000);
    expect(v.serialLog).toBe('two-lines: first\r\ntwo-lines: second\r\n');
  }, 150_000);

  test('triple-fault ends crashed, naming the triple fault', async () => {
    const v = await soft('triple-fault');
    expect(await v.waitForState(['crashed'], 20_000)).toBe('crashed');
    expect(v.serialLog).toBe('triple-fault: loading an empty IDT\r\n');
    expect(v.exitReason).toMatch(/triple fault/);
  });

  test('cpu-loop prints the xorshift32 checksum of its 100,000 iterations', async () => {
    const v = await soft('cpu-loop');
    await v.waitForSerial(/iterations=.*\r\n/, 30_000);
    expect(v.serialLog).toBe(`cpu-loop: start\r\n${cpuLoopLine()}`);
  });
});
