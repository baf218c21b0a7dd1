import { ExitReason, Kvm, type KvmRegs, type KvmSregs, type KvmVcpu, type KvmVm, MappedMemory, PAGE_SIZE, SystemEventType, currentThreadId } from '@quasivm/kvm';
import type { DeviceHost } from '@quasivm/device-sdk';
import { IoBus } from '../io-bus.js';
import { wireChipset, type Chipset } from '../machine/chipset-wiring.js';
import { placeFirmware } from '../machine/firmware.js';
import { loadLinux } from '../machine/linux-boot.js';
import { linuxEntryKvm } from '../machine/linux-entry.js';
import type { MachineConfig } from '../machine/vm-config.js';
import { Control, decodeNames, type FromCpu, type VmRunState } from '../machine/worker-messages.js';
import type { BridgeBuffers } from '../remote-io-bridge.js';
import { SharedRing } from '../shared-ring.js';
import { ConsoleWriter, OutputKind } from './console-output.js';
import { crashReason, registerDump } from './kvm-crash-report.js';
import { encodeDeadline } from '../machine/deadlines.js';
import { kvmDevicePath } from './kvm-device-path.js';
import { KvmHandshake } from './kvm-handshake.js';
import { MmioRouter, serveIo } from './kvm-io-exits.js';
import { KvmRemoteDevices } from './kvm-remote-devices.js';
import { GuestMemory } from './kvm-memory-map.js';
import type { KvmLinkBuffers } from './kvm-vm-link.js';
import { GuestClock } from './guest-clock.js';
import { MpState, VcpuMpState } from './mp-state.js';

/** Guest-physical pages KVM may use on Intel for real mode (3-page TSS, 1-page identity map), just below the largest firmware alias. */
const TSS_ADDRESS = 0xfffbd000;
const IDENTITY_MAP_ADDRESS = 0xfffbc000;

/**
 * One VM on KVM, living on its own thread (mirrors SoftMachine): guest RAM in an mmap,
 * the in-kernel irqchip (PIC pair, IOAPIC, LAPIC; never a PIT), the local chipset on the
 * same IoBus minus the 8259s (KVM's PIC owns 0x20/0x21/0xA0/0xA1/0x4D0), remote devices
 * through the bridge, and the KVM_RUN exit loop. Guest time is host monotonic time while
 * running (GuestClock). What must reach the guest while this thread is in KVM_RUN is done
 * by the main thread (KvmVmLink) with what this thread publishes.
 */
export class KvmMachine {
  readonly io = new IoBus();
  readonly chipset: Chipset;
  private readonly kvm: Kvm;
  private readonly vm: KvmVm;
  private readonly vcpu: KvmVcpu;
  private readonly memory: GuestMemory;
  /** A second mapping of kvm_run whose address the main thread uses to set immediate_exit. */
  private readonly runForKicks: MappedMemory;
  private initialRegs: KvmRegs;
  private initialSregs: KvmSregs;
  private readonly mpState: VcpuMpState;
  private readonly control: SharedRing;
  private readonly deadlines: SharedRing;
  private readonly console: ConsoleWriter;
  private readonly clock: GuestClock;
  private readonly handshake: KvmHandshake;
  private readonly mmio = new MmioRouter();
  private readonly remotes: KvmRemoteDevices;
  private state: VmRunState = 'created';
  private resetRequested: string | null = null;
  /** KVM_RUN returns, for the user and benches. */
  exits = 0;

  constructor(
    private readonly config: MachineConfig,
    controlBuffer: SharedArrayBuffer,
    bridge: BridgeBuffers,
    link: KvmLinkBuffers,
    private readonly send: (m: FromCpu) => void,
  ) {
    this.control = new SharedRing(controlBuffer);
    this.io.tracer = (device, dir, port, size, value, t) => this.send({ type: 'io-trace', device, dir, port, size, value, t });
    this.deadlines = new SharedRing(link.deadlines);
    this.console = new ConsoleWriter(link.console);
    this.clock = new GuestClock(link.clock);
    this.handshake = new KvmHandshake(link.handshake);
    const windows = config.remoteDevices.flatMap((d) => d.memoryWindows);
    const opened: Array<() => void> = [];
    try {
      this.kvm = Kvm.open(kvmDevicePath());
      opened.push(() => this.kvm.close());
      this.vm = this.kvm.createVm();
      opened.push(() => this.vm.close());
      this.vm.setTssAddr(TSS_ADDRESS);
      this.vm.setIdentityMapAddr(IDENTITY_MAP_ADDRESS);
      this.vm.createIrqchip();
      this.memory = new GuestMemory(this.kvm, this.vm, config.ramBytes, config.firmware, windows);
      opened.push(() => this.memory.free());
      placeFirmware(this.memory.ram.bytes, config.firmware);
      this.vcpu = this.vm.createVcpu(0);
      this.vcpu.setCpuid2(this.kvm.getSupportedCpuid());
      // A fresh vCPU is in the reset state (CS base 0xFFFF0000, IP 0xFFF0): the firmware alias answers.
      this.initialRegs = this.vcpu.getRegs();
      this.initialSregs = this.vcpu.getSregs();
      if (config.linuxBoot) {
        // Direct kernel boot: the vCPU starts at the kernel's 32-bit entry instead of the reset vector.
        const entry = loadLinux(this.memory.ram.bytes, { ...config.linuxBoot, ramBytes: config.ramBytes });
        ({ regs: this.initialRegs, sregs: this.initialSregs } = linuxEntryKvm(this.initialRegs, this.initialSregs, entry));
        this.vcpu.setSregs(this.initialSregs);
        this.vcpu.setRegs(this.initialRegs);
      }
      this.mpState = new VcpuMpState(this.vcpu.fd);
      this.runForKicks = MappedMemory.mapFd(this.vcpu.fd, PAGE_SIZE, 'mmap of kvm_run for kicks');
    } catch (e) {
      for (const undo of opened.reverse()) undo();
      throw e;
    }
    this.chipset = wireChipset(this.io, (d) => this.host(d), {
      ramBytes: config.ramBytes,
      cpuCount: config.cpuCount,
      baseEpochMs: config.baseEpochMs,
      hardDisks: config.hardDisks,
      optionRoms: config.optionRoms,
      onSerial: (b) => this.console.byte(OutputKind.Serial, b),
      onDebugOutput: (b) => this.console.byte(OutputKind.DebugConsole, b),
      onA20: () => undefined, // KVM offers no A20 gate: the line stays enabled
      onReset: (why) => (this.resetRequested = why),
    });
    const mappedWindows = new Int32Array(link.mappedWindows);
    this.remotes = new KvmRemoteDevices(config, this.io, this.mmio, this.memory, (all) => this.memory.mapRam(all), (n) => Atomics.store(mappedWindows, 0, n), send);
    this.remotes.plug(bridge, this.chipset, () => this.now());
  }

  now(): number {
    return this.clock.nowNs();
  }

  private host(device: string): DeviceHost {
    const ram = this.memory.ram.bytes;
    return {
      setIrq: (line, level) => this.vm.irqLine(line, level),
      setIrqDeadline: (line, at, period) => this.deadlines.pushBlocking(encodeDeadline(line, at, period)),
      readMemory: async (addr, len) => ram.slice(addr, addr + len),
      writeMemory: async (addr, data) => ram.set(data.subarray(0, Math.max(0, ram.length - addr)), addr),
      emitEvent: (kind, detail) => this.send({ type: 'event', kind, detail: { device, ...detail } }),
    };
  }

  private setState(state: VmRunState, reason?: string, registers?: Record<string, string>): void {
    this.state = state;
    this.send({ type: 'state', state, reason, registers });
  }

  /** Applies control records; returns false when the VM must stop. */
  private applyControl(): boolean {
    let rec: Int32Array | null;
    while ((rec = this.control.pop()) !== null) {
      switch (rec[0]) {
        case Control.Irq:
          this.vm.irqLine(rec[1], rec[2] !== 0);
          break;
        case Control.IrqDeadline:
          this.deadlines.pushBlocking(rec.subarray(1));
          break;
        case Control.SerialInput:
          this.chipset.uart.receive(rec.subarray(1));
          break;
        case Control.Keys:
          this.chipset.keyboard.pressKeys(rec.subarray(1));
          break;
        case Control.SyncWindows:
          this.remotes.syncWindows(rec[1], rec[2], this.now());
          break;
        case Control.HoldDevice:
          this.remotes.proxies.find((p) => p.deviceIndex === rec![1])?.holdIfAsked(this.now());
          break;
        case Control.Pause:
          if (this.state === 'running') {
            this.remotes.tick(this.now(), true);
            this.clock.pause();
            this.setState('paused');
          }
          break;
        case Control.Resume:
          if (this.state === 'paused') {
            this.clock.resume();
            this.setState('running');
          }
          break;
        case Control.Reset:
          this.resetRequested = 'reset requested by the user';
          break;
        case Control.Stop:
          return false;
        case Control.Stats:
          this.sendStats();
          break;
        case Control.Trace:
          this.io.setTraced(decodeNames(rec.subarray(1)));
          break;
        case Control.ClaimsChanged:
          this.remotes.rerouteFromRecord(rec);
          break;
      }
    }
    return true;
  }

  sendStats(): void {
    this.send({
      type: 'stats',
      stats: {
        instructions: 0, // KVM does not count guest instructions
        guestTimeNs: this.now(),
        unclaimedReads: Object.fromEntries([...this.io.unclaimedReads].map(([p, n]) => [`0x${p.toString(16)}`, n])),
        unclaimedWrites: Object.fromEntries([...this.io.unclaimedWrites].map(([p, n]) => [`0x${p.toString(16)}`, n])),
        ioCounts: Object.fromEntries(this.io.accessCounts),
        remoteBlockedMs: this.remotes.blockedMs,
      },
    });
  }

  private doReset(reason: string): void {
    this.resetRequested = null;
    this.send({ type: 'event', kind: 'reset', detail: { reason } });
    placeFirmware(this.memory.ram.bytes, this.config.firmware);
    if (this.config.linuxBoot) loadLinux(this.memory.ram.bytes, { ...this.config.linuxBoot, ramBytes: this.config.ramBytes });
    this.vcpu.setSregs(this.initialSregs);
    this.vcpu.setRegs(this.initialRegs);
    this.mpState.set(MpState.RUNNABLE); // a guest halted in the kernel would stay halted

  }

  /** Runs until stopped, shut down or crashed. Blocks this thread in KVM_RUN; that is the point. */
  run(): void {
    this.handshake.publish({
      tid: currentThreadId(),
      vmFd: this.vm.fd,
      ramAddress: this.memory.ram.address,
      ramSize: this.memory.ram.size,
      runAddress: this.runForKicks.address,
      runSize: this.runForKicks.size,
    });
    this.clock.resume();
    this.setState('running');
    const exit = this.vcpu.exit;
    for (;;) {
      // Cleared before the control ring is read: a kick for a record pushed after this is not lost.
      exit.immediateExit = false;
      if (!this.applyControl()) break;
      if (this.state === 'halted' && this.resetRequested) this.setState('running');
      if (this.state === 'paused' || this.state === 'halted') {
        this.control.waitForData(100);
        continue;
      }
      if (this.resetRequested) this.doReset(this.resetRequested);
      this.remotes.flush();
      const reason = this.vcpu.run();
      this.exits++;
      if (reason === ExitReason.IO) serveIo(exit, this.io, this.clock.nowNs());
      else if (reason === ExitReason.MMIO) this.mmio.serve(exit, this.clock.nowNs());
      // Mapped windows' bytes at the display rate (the main thread kicks that often while any are mapped).
      this.remotes.tick(this.clock.nowNs());
      if (reason === ExitReason.IO || reason === ExitReason.MMIO) continue;
      if (reason === ExitReason.INTR) this.noticeHaltedForGood();
      else if (reason === ExitReason.HLT) this.halted();
      else if (reason === ExitReason.SYSTEM_EVENT && exit.systemEventType === SystemEventType.RESET) this.resetRequested = 'the guest asked KVM for a reset';
      else if (reason === ExitReason.SYSTEM_EVENT && exit.systemEventType === SystemEventType.SHUTDOWN) break;
      else {
        const regs = registerDump(this.vcpu);
        this.clock.pause();
        this.setState('crashed', crashReason(reason, exit, regs), regs);
        return;
      }
    }
    this.settleDevices();
    this.clock.pause();
    this.setState('shut-down', 'stopped');
  }

  /**
   * Kicked out of KVM_RUN (pause, stats, stop, or the main thread's once-a-second probe): a
   * vCPU the kernel holds in HLT with interrupts disabled will never run again by itself,
   * which the user is told, as the soft backend does. One ioctl, only on kicks.
   */
  private noticeHaltedForGood(): void {
    if (this.vcpu.exit.ifFlag || this.mpState.get() !== MpState.HALTED) return;
    this.settleDevices();
    this.setState('halted', 'HLT with interrupts disabled', registerDump(this.vcpu));
  }

  /** Before the guest stops for good: its window bytes and posted writes reach the devices. */
  private settleDevices(): void {
    this.remotes.tick(this.now(), true);
    this.remotes.flush();
  }

  /** HLT reached userspace (only without an in-kernel HLT): with IF clear only a reset or stop wakes it. */
  private halted(): void {
    if (this.vcpu.exit.ifFlag) return;
    this.settleDevices();
    this.setState('halted', 'HLT with interrupts disabled', registerDump(this.vcpu));
  }

  /** Frees every KVM resource once the main thread has let go of its views. */
  close(): void {
    this.remotes.close();
    this.handshake.waitForRelease();
    this.runForKicks.free();
    this.vm.close();
    this.kvm.close();
    this.remotes.freeWindows();
    this.memory.free();
  }
}
