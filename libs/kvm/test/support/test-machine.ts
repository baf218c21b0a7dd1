/**
 * A minimal machine for the tests: 1 MiB of RAM at 0, one vCPU in real mode at the
 * guest's reset vector, and an exit loop that serves COM1 (THR 0x3F8, LSR 0x3FD)
 * itself. Not the vCPU service: just enough to drive the test guests.
 */
import {
  ExitReason,
  exitReasonName,
  Kvm,
  KvmRun,
  KvmVcpu,
  KvmVm,
  MappedMemory,
  MemFlag,
  withRealModeSegments,
} from '../../src/index.js';
import { KVM_PATH } from './kvm-available.js';
import { GUEST_ENTRY_CS, GUEST_ENTRY_IP, GUEST_LOAD_ADDRESS, guestImage, type GuestParams } from './guest-images.js';

export const RAM_SIZE = 0x100000;
export const RAM_SLOT = 0;
const COM1_THR = 0x3f8;
const COM1_LSR = 0x3fd;
const LSR_THRE_TEMT = 0x60;
/** Where KVM may put its real-mode TSS (3 pages) and identity page table (1 page). */
const TSS_ADDRESS = 0xfffbd000;
const IDENTITY_MAP_ADDRESS = 0xfffbc000;

export interface MachineOptions {
  guest: string;
  params?: GuestParams;
  /** Create the in-kernel PIC/IOAPIC (then HLT no longer exits to userspace). */
  irqchip?: boolean;
  /** Register RAM with KVM_MEM_LOG_DIRTY_PAGES. */
  dirtyLog?: boolean;
}

/** Why a run loop returned. */
export type Stop = 'hlt' | 'shutdown' | 'until' | 'budget' | 'intr' | 'fail-entry' | 'internal-error' | 'system-event' | 'mmio' | 'other';

/** Handles a port the machine does not own; return true if handled. */
export type IoHandler = (run: KvmRun) => boolean;

export class TestMachine {
  readonly kvm: Kvm;
  readonly vm: KvmVm;
  readonly vcpu: KvmVcpu;
  readonly ram: MappedMemory;
  serial = '';
  exitCount = 0;
  ioExitCount = 0;
  lastExit = 'none';
  onIo: IoHandler | undefined;
  /** Serves MMIO exits (guest access outside every slot); without it they stop the run. */
  onMmio: ((run: KvmRun) => void) | undefined;

  constructor(options: MachineOptions) {
    this.kvm = Kvm.open(KVM_PATH);
    this.vm = this.kvm.createVm();
    this.ram = MappedMemory.allocate(RAM_SIZE);
    this.ram.load(GUEST_LOAD_ADDRESS, guestImage(options.guest, options.params));
    this.vm.setTssAddr(TSS_ADDRESS);
    this.vm.setIdentityMapAddr(IDENTITY_MAP_ADDRESS);
    if (options.irqchip) this.vm.createIrqchip();
    this.vm.setUserMemoryRegion({
      slot: RAM_SLOT,
      guestPhysAddr: 0,
      memory: this.ram,
      flags: options.dirtyLog ? MemFlag.LOG_DIRTY_PAGES : 0,
    });
    this.vcpu = this.vm.createVcpu(0);
    this.vcpu.setCpuid2(this.kvm.getSupportedCpuid());
    this.vcpu.setSregs(withRealModeSegments(this.vcpu.getSregs(), GUEST_ENTRY_CS));
    this.vcpu.setRegs({ ...this.vcpu.getRegs(), rip: GUEST_ENTRY_IP, rflags: 0x2 });
  }

  /** Complete serial lines (each ended by CR LF or LF, terminator stripped). */
  get lines(): string[] {
    return this.serial.split(/\r?\n/).slice(0, -1);
  }

  /**
   * Handles one exit. Returns undefined to keep running, or why to stop.
   * IO exits are served here (COM1) or by onIo; unowned ports read all ones.
   */
  handleExit(reason: number): Stop | undefined {
    this.exitCount++;
    this.lastExit = exitReasonName(reason);
    const run = this.vcpu.exit;
    switch (reason) {
      case ExitReason.IO:
        this.ioExitCount++;
        if (run.ioPort === COM1_THR && run.ioIsOut) {
          for (const byte of run.ioData()) this.serial += String.fromCharCode(byte);
        } else if (run.ioPort === COM1_LSR && !run.ioIsOut) {
          for (let i = 0; i < run.ioCount; i++) run.setIoValue(LSR_THRE_TEMT, i);
        } else if (!this.onIo?.(run) && !run.ioIsOut) {
          run.ioData().fill(0xff);
        }
        return undefined;
      case ExitReason.HLT:
        return 'hlt';
      case ExitReason.SHUTDOWN:
        return 'shutdown';
      case ExitReason.INTR:
        return 'intr';
      case ExitReason.FAIL_ENTRY:
        return 'fail-entry';
      case ExitReason.INTERNAL_ERROR:
        return 'internal-error';
      case ExitReason.SYSTEM_EVENT:
        return 'system-event';
      case ExitReason.MMIO:
        if (!this.onMmio) return 'mmio';
        this.onMmio(run);
        return undefined;
      default:
        return 'other';
    }
  }

  /** Runs on this thread until a stop, `until()` holds after an exit, or the budget is spent. */
  runSync(budgetMs: number, until?: () => boolean): Stop {
    const deadline = performance.now() + budgetMs;
    for (;;) {
      const stop = this.handleExit(this.vcpu.run());
      if (stop) return stop;
      if (until?.()) return 'until';
      if (performance.now() > deadline) return 'budget';
    }
  }

  /** Like runSync, but KVM_RUN happens on a koffi worker thread; this thread stays free. */
  async runAsync(budgetMs: number, until?: () => boolean): Promise<Stop> {
    const deadline = performance.now() + budgetMs;
    for (;;) {
      const stop = this.handleExit(await this.vcpu.runAsync());
      if (stop) return stop;
      if (until?.()) return 'until';
      if (performance.now() > deadline) return 'budget';
    }
  }

  close(): void {
    this.vm.close();
    this.kvm.close();
    this.ram.free();
  }
}
