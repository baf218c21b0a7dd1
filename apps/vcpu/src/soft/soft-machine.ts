import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Cpu, StopReason } from '@quasivm/x86';
import { Pic8259Pair, PIC_MASTER_PORTS, PIC_SLAVE_PORTS, PIC_ELCR_PORTS } from '@quasivm/chipset';
import type { DeviceHost, LaneIrqs } from '@quasivm/device-sdk';
import { IoBus } from '../io-bus.js';
import { wireChipset, type Chipset } from '../machine/chipset-wiring.js';
import { decodeDeadline, IrqDeadlines } from '../machine/deadlines.js';
import { placeFirmware } from '../machine/firmware.js';
import { loadLinux } from '../machine/linux-boot.js';
import { enterLinuxSoft } from '../machine/linux-entry.js';
import type { MachineConfig } from '../machine/vm-config.js';
import { Control, decodeNames, type FromCpu, type VmRunState } from '../machine/worker-messages.js';
import { RemoteIoProxy, type BridgeBuffers } from '../remote-io-bridge.js';
import { SharedRing } from '../shared-ring.js';
import { MappedWindows } from './mapped-windows.js';
import { SoftCpuBus } from './soft-cpu-bus.js';
import { startWorker } from '../ts-worker.js';

/** Instructions run between looks at the control ring and the deadlines. */
const SLICE = 50_000;
const TWO32 = 0x1_0000_0000;

/**
 * One VM on the software CPU, living on its own thread: guest RAM, the x86 core, the
 * 8259 pair, local chipset, remote devices through the bridge, and guest time derived
 * from the instruction count.
 */
export class SoftMachine {
  readonly ram: Uint8Array;
  readonly io = new IoBus();
  readonly cpu: Cpu;
  readonly pic: Pic8259Pair;
  readonly chipset: Chipset;
  readonly deadlines = new IrqDeadlines();
  private readonly bus: SoftCpuBus;
  private readonly control: SharedRing;
  private readonly proxies: RemoteIoProxy[] = [];
  /** Remote devices whose windows may be served from local memory, by device index. */
  private readonly mapped = new Map<number, MappedWindows>();
  /** Memory each remote device decodes now, by device index. */
  private readonly deviceWindows = new Map<number, Array<{ base: number; length: number }>>();
  private state: VmRunState = 'created';
  /** Guest ns added while the CPU idled in HLT (time jumps to the next deadline). */
  private idleNs = 0;
  private serialOut: number[] = [];
  private debugOut: number[] = [];
  private resetRequested: string | null = null;

  constructor(
    private readonly config: MachineConfig,
    /** Guest RAM from byte 0, then the CPU state (@quasivm/x86 allocateGuestMemory). */
    guestMemory: WebAssembly.Memory,
    controlBuffer: SharedArrayBuffer,
    bridge: BridgeBuffers,
    private readonly send: (m: FromCpu) => void,
  ) {
    this.ram = new Uint8Array(guestMemory.buffer, 0, config.ramBytes);
    this.control = new SharedRing(controlBuffer);
    this.io.tracer = (device, dir, port, size, value, t) => this.send({ type: 'io-trace', device, dir, port, size, value, t });
    const { highBase } = placeFirmware(this.ram, config.firmware);
    this.bus = new SoftCpuBus(this.ram, this.io, config.firmware, highBase, () => this.now(), guestMemory);
    this.pic = new Pic8259Pair();
    this.io.insert(this.pic, PIC_MASTER_PORTS.base, PIC_MASTER_PORTS.length, 'pic-master');
    this.io.insert(this.pic, PIC_SLAVE_PORTS.base, PIC_SLAVE_PORTS.length, 'pic-slave');
    this.io.insert(this.pic, PIC_ELCR_PORTS.base, PIC_ELCR_PORTS.length, 'pic-elcr');
    this.chipset = wireChipset(this.io, (d) => this.host(d), {
      ramBytes: config.ramBytes,
      cpuCount: config.cpuCount,
      baseEpochMs: config.baseEpochMs,
      hardDisks: config.hardDisks,
      optionRoms: config.optionRoms,
      onSerial: (b) => this.serialOut.push(b),
      onDebugOutput: (b) => this.debugOut.push(b),
      onA20: (on) => (this.bus.a20Mask = on ? 0xffffffff : ~(1 << 20)),
      onReset: (why) => (this.resetRequested = why),
    });
    for (const slot of config.remoteDevices) {
      const proxy = new RemoteIoProxy(bridge, slot.index, slot.fastLane, this.laneMemory, this.laneIrqs(slot.name));
      this.proxies.push(proxy);
      // A BAR move answered on the fast lane: route the new ports before the guest's next access.
      proxy.onClaimsChanged = (ports, windows) => this.rerouteDevice(slot.index, Int32Array.from(ports.flatMap((p) => [p.base, p.length])), windows);
      const mapper = MappedWindows.for(proxy, slot.windowModePorts, () => this.remapWindows(slot.index));
      if (mapper) this.mapped.set(slot.index, mapper);
      const device = mapper ?? proxy;
      for (const r of slot.ports) this.io.insert(device, r.base, r.length, slot.name);
      slot.pciFunctions.forEach((f, fn) =>
        this.chipset.pci.plug(f.device, f.function, {
          configRead: (offset, size) => device.pciConfigRead(fn, offset, size, this.now()),
          configWrite: (offset, size, value) => device.pciConfigWrite(fn, offset, size, value, this.now()),
        }),
      );
      this.mapWindows(slot.index, slot.memoryWindows);
    }
    for (const m of this.mapped.values()) m.refresh(0);
    // Hot pages are compiled to WebAssembly (the wasm JIT), blocks it cannot take to JavaScript.
    // QUASIVM_WASM=0 compiles hot blocks to JavaScript only; QUASIVM_JIT=0 compiles nothing
    // (to tell a JIT bug from another one); QUASIVM_JIT_THRESHOLD=n sets the runs before compiling.
    const threshold = process.env.QUASIVM_JIT === '0' ? Infinity : process.env.QUASIVM_JIT_THRESHOLD ? Number(process.env.QUASIVM_JIT_THRESHOLD) : undefined;
    const wasmJit = process.env.QUASIVM_WASM !== '0';
    this.cpu = new Cpu({ bus: this.bus, model: 'i686', jitThreshold: threshold, wasmJit, wasmCompileService: wasmJit ? startCompileWorker(config, guestMemory) : undefined });
    this.cpu.interruptSource = this.pic;
    // RDTSC follows guest time (it must keep counting while the CPU idles in HLT).
    // now() in instruction units, floored (what RDTSC reads): instructions plus idle and I/O
    // time. Written so it moves on by exactly one per instruction in between
    // (Cpu.timeStampCountsInstructions): floor(count + x) = count + floor(x).
    this.cpu.timeStampSource = () => this.cpu.instructionCount + Math.floor((this.idleNs + this.bus.ioTimeNs) / config.nsPerInstruction);
    this.enterKernelIfDirectBoot();
  }

  /**
   * Guest RAM as this thread serves it to a device's DMA on its fast lane (while it waits
   * there for a reply): the data is in place, and stale decoded code dropped, before the
   * device answers the read that waited for the transfer.
   */
  private readonly laneMemory = ((m: SoftMachine) => ({
    get bytes(): number {
      return m.ram.length;
    },
    read: (addr: number, length: number): Uint8Array => {
      if (addr < 0 || addr + length > m.ram.length) throw new Error(`guest memory 0x${addr.toString(16)}+${length} is outside RAM`);
      return m.ram.slice(addr, addr + length);
    },
    view: (addr: number, length: number): Uint8Array => {
      if (addr < 0 || addr + length > m.ram.length) throw new Error(`guest memory 0x${addr.toString(16)}+${length} is outside RAM`);
      return m.ram.subarray(addr, addr + length);
    },
    write: (addr: number, data: Uint8Array): void => {
      if (addr < 0 || addr + data.byteLength > m.ram.length) throw new Error(`guest memory 0x${addr.toString(16)}+${data.byteLength} is outside RAM`);
      m.ram.set(data, addr);
      m.cpu.invalidateCode(addr, data.byteLength);
    },
  }))(this);

  /**
   * IRQ line changes a device sends on its fast lane while this thread waits there (a DMA's
   * completion): applied at once, and told to the main thread when it publishes IRQs (NATS tap).
   */
  private laneIrqCount = 0;
  private laneIrqs(device: string): LaneIrqs {
    return (line, level, t, resent) => {
      this.laneIrqCount++;
      this.setIrq(line, level);
      if (this.config.reportLaneIrqs && !resent) this.send({ type: 'irq', line, level, t, device });
    };
  }

  /** Direct kernel boot: lay out the kernel and start the CPU at its 32-bit entry. */
  private enterKernelIfDirectBoot(): void {
    if (!this.config.linuxBoot) return;
    enterLinuxSoft(this.cpu, loadLinux(this.ram, { ...this.config.linuxBoot, ramBytes: this.config.ramBytes }));
  }

  /** Guest virtual time in ns: instruction count x nsPerInstruction, plus time skipped while idle and time port accesses took. */
  now(): number {
    return this.cpu.instructionCount * this.config.nsPerInstruction + this.idleNs + this.bus.ioTimeNs;
  }

  private host(device: string): DeviceHost {
    return {
      setIrq: (line, level) => this.setIrq(line, level),
      setIrqDeadline: (line, at, period) => this.deadlines.set(line, at, period),
      readMemory: async (addr, len) => this.ram.slice(addr, addr + len),
      writeMemory: async (addr, data) => {
        this.ram.set(data.subarray(0, Math.max(0, this.ram.length - addr)), addr);
        this.cpu.invalidateCode(addr, data.byteLength);
      },
      emitEvent: (kind, detail) => this.send({ type: 'event', kind, detail: { device, ...detail } }),
    };
  }

  private setIrq(line: number, level: boolean): void {
    this.pic.setIrq(line, level);
  }

  private pulse = (line: number): void => {
    this.pic.setIrq(line, true);
    this.pic.setIrq(line, false);
  };

  private setState(state: VmRunState, reason?: string, registers?: Record<string, string>): void {
    this.state = state;
    this.send({ type: 'state', state, reason, registers });
  }

  private flushOutput(): void {
    if (this.serialOut.length) {
      this.send({ type: 'serial', data: Uint8Array.from(this.serialOut) });
      this.serialOut = [];
    }
    if (this.debugOut.length) {
      this.send({ type: 'debug-console', data: Uint8Array.from(this.debugOut) });
      this.debugOut = [];
    }
  }

  registers(): Record<string, string> {
    const c = this.cpu;
    const hex = (v: number, w = 8) => `0x${(v >>> 0).toString(16).padStart(w, '0')}`;
    const names = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
    const regs: Record<string, string> = {};
    names.forEach((n, i) => (regs[n] = hex(c.reg32[i])));
    regs.eip = hex(c.eip);
    regs.eflags = hex(c.getFlags());
    ['es', 'cs', 'ss', 'ds', 'fs', 'gs'].forEach((n, i) => (regs[n] = hex(c.segSelector[i], 4)));
    regs.cr0 = hex(c.cr0);
    regs.cr2 = hex(c.cr2);
    regs.cr3 = hex(c.cr3);
    regs.cr4 = hex(c.cr4);
    regs.cpl = String(c.cpl);
    return regs;
  }

  /** Applies control records; returns false when the VM must stop. */
  private applyControl(): boolean {
    let rec: Int32Array | null;
    while ((rec = this.control.pop()) !== null) {
      switch (rec[0]) {
        case Control.Irq: {
          const proxy = rec.length >= 7 ? this.proxies.find((p) => p.deviceIndex === rec![3]) : undefined;
          if (!proxy || proxy.takeStreamIrq((rec[4] >>> 0) + rec[5] * TWO32, rec[6])) this.setIrq(rec[1], rec[2] !== 0);
          break;
        }
        case Control.IrqDeadline: {
          const d = decodeDeadline(rec.subarray(1));
          this.deadlines.set(d.line, d.at, d.periodNs);
          break;
        }
        case Control.SerialInput:
          this.chipset.uart.receive(rec.subarray(1));
          break;
        case Control.Keys:
          this.chipset.keyboard.pressKeys(rec.subarray(1));
          break;
        case Control.Pause:
          if (this.state === 'running') this.setState('paused');
          break;
        case Control.Resume:
          if (this.state === 'paused') this.setState('running');
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
        case Control.SyncWindows:
          this.syncWindows(rec[1], rec[2]);
          break;
        case Control.HoldDevice:
          this.proxies.find((p) => p.deviceIndex === rec![1])?.holdIfAsked(this.now());
          break;
        case Control.InvalidateCode:
          this.cpu.invalidateCode((rec[1] >>> 0) + rec[2] * TWO32, rec[3] >>> 0);
          break;
        case Control.ClaimsChanged: {
          const ports = rec.subarray(3, 3 + rec[2] * 2);
          const w = 3 + rec[2] * 2;
          const windows: Array<{ base: number; length: number }> = [];
          for (let i = 0; i < rec[w]; i++) windows.push({ base: (rec[w + 1 + i * 3] >>> 0) + rec[w + 2 + i * 3] * TWO32, length: rec[w + 3 + i * 3] >>> 0 });
          this.rerouteDevice(rec[1], ports, windows);
          break;
        }
      }
    }
    return true;
  }

  /** A device's WindowSyncRequest: its mapped windows' bytes, then WindowSynced, on its fast lane. */
  private syncWindows(index: number, requestId: number): void {
    const mapper = this.mapped.get(index);
    if (mapper) return mapper.syncRequested(requestId, this.now());
    const lane = this.proxies.find((p) => p.deviceIndex === index)?.fastLane;
    lane?.post({ timeNs: this.now(), size: 1, windowSynced: { requestId } });
    lane?.flush();
  }

  /** Routes a remote device's memory: its direct windows to local memory first, the rest to the device. */
  private mapWindows(index: number, windows: Array<{ base: number; length: number }>): void {
    const slot = this.config.remoteDevices.find((d) => d.index === index)!;
    const proxy = this.proxies.find((p) => p.deviceIndex === index)!;
    const mapper = this.mapped.get(index);
    const device = mapper ?? proxy;
    this.deviceWindows.set(index, windows);
    for (const h of mapper?.handlers(slot.name) ?? []) this.bus.addWindow(h);
    for (const w of windows)
      this.bus.addWindow({ owner: slot.name, base: w.base, length: w.length, memRead: (a, s, t) => device.memRead(a, s, t), memWrite: (a, s, v, t) => device.memWrite(a, s, v, t) });
  }

  /** The device's direct windows changed (a mode change): route its memory again. */
  private remapWindows(index: number): void {
    const slot = this.config.remoteDevices.find((d) => d.index === index);
    if (!slot) return;
    this.bus.removeWindows(slot.name);
    this.mapWindows(index, this.deviceWindows.get(index) ?? slot.memoryWindows);
  }

  /** A remote device decodes other ports and memory now: route exactly those to it. */
  private rerouteDevice(index: number, ranges: Int32Array, windows: Array<{ base: number; length: number }>): void {
    const slot = this.config.remoteDevices.find((d) => d.index === index);
    const proxy = this.proxies.find((p) => p.deviceIndex === index);
    if (!slot || !proxy) return;
    this.io.remove(slot.name);
    const device = this.mapped.get(index) ?? proxy;
    for (let i = 0; i < ranges.length; i += 2) {
      try {
        this.io.insert(device, ranges[i], ranges[i + 1], slot.name);
      } catch (e) {
        this.send({ type: 'event', kind: 'claims-refused', detail: { device: slot.name, reason: (e as Error).message } });
      }
    }
    this.bus.removeWindows(slot.name);
    this.mapWindows(index, windows);
    // Pages that turned from RAM into a device window (or back) must not run stale decoded code.
    for (const w of windows) if (w.base < this.ram.length) this.cpu.invalidateCode(w.base, Math.min(w.length, this.ram.length - w.base));
  }

  sendStats(): void {
    this.send({
      type: 'stats',
      stats: {
        instructions: this.cpu.instructionCount,
        guestTimeNs: this.now(),
        unclaimedReads: Object.fromEntries([...this.io.unclaimedReads].map(([p, n]) => [`0x${p.toString(16)}`, n])),
        unclaimedWrites: Object.fromEntries([...this.io.unclaimedWrites].map(([p, n]) => [`0x${p.toString(16)}`, n])),
        ioCounts: Object.fromEntries(this.io.accessCounts),
        remoteBlockedMs: this.proxies.reduce((s, p) => s + p.blockedMs, 0),
        remoteRoundTrips: this.proxies.reduce((s, p) => s + p.roundTrips, 0),
        remoteAheadReads: this.proxies.reduce((s, p) => s + p.aheadReads, 0),
        remoteMemorySnapshots: this.proxies.reduce((s, p) => s + p.memorySnapshots, 0),
        remoteDmaServed: this.proxies.reduce((s, p) => s + p.dmaServed, 0),
        remoteDmaMore: this.proxies.reduce((s, p) => s + p.dmaMoreAsked, 0),
        remoteLaneIrqs: this.laneIrqCount,
        wasmRegions: this.cpu.wasmJit?.compiled ?? 0,
        wasmRegionsCompiledElsewhere: this.cpu.wasmJit?.compiledElsewhere ?? 0,
      },
    });
  }

  private doReset(reason: string): void {
    this.resetRequested = null;
    this.send({ type: 'event', kind: 'reset', detail: { reason } });
    placeFirmware(this.ram, this.config.firmware);
    this.cpu.reset();
    this.enterKernelIfDirectBoot();
    this.cpu.invalidateCode(0, this.ram.length); // the loaders rewrote RAM behind the CPU
  }

  /** Runs until stopped, shut down or crashed. Blocks this thread; that is the point. */
  run(): void {
    this.setState('running');
    for (;;) {
      if (!this.applyControl()) break;
      if (this.state === 'paused') {
        for (const m of this.mapped.values()) m.tick(this.now(), true);
        for (const p of this.proxies) p.flush();
        this.flushOutput();
        this.control.waitForData(100);
        continue;
      }
      if (this.resetRequested) this.doReset(this.resetRequested);
      const now = this.now();
      this.deadlines.fire(now, this.pulse);
      const next = this.deadlines.next();
      const budget = next === Infinity ? SLICE : Math.max(1, Math.min(SLICE, Math.ceil((next - now) / this.config.nsPerInstruction)));
      let stop: StopReason;
      try {
        stop = this.cpu.run(budget);
      } catch (e) {
        this.flushOutput();
        this.setState('crashed', `CPU error at ${this.registers().cs}:${this.registers().eip}: ${(e as Error).message}`, this.registers());
        return;
      }
      // What the guest wrote to mapped windows and devices reaches them before its serial output is reported.
      for (const m of this.mapped.values()) m.tick(this.now(), stop === StopReason.Halted);
      for (const p of this.proxies) p.flush();
      this.flushOutput();
      if (stop === StopReason.Halted) {
        if ((this.cpu.getFlags() & 0x200) === 0) {
          this.setState('halted', 'HLT with interrupts disabled', this.registers());
          // Only a reset or stop wakes a CPU halted with IF=0.
          while (!this.resetRequested) {
            this.control.waitForData(200);
            if (!this.applyControl()) return;
          }
          this.setState('running');
          continue;
        }
        this.idle();
      }
    }
    this.flushOutput();
    this.setState('shut-down', 'stopped');
  }

  /**
   * HLT with interrupts on: nothing runs until an interrupt. Guest time moves on to the next
   * deadline: at once (repeatable runs), or following real time while it sleeps (realtime).
   */
  private idle(): void {
    const waitNs = this.deadlines.next() - this.now();
    if (waitNs === Infinity) {
      this.control.waitForData(50);
      return;
    }
    if (!this.config.realtime) {
      this.idleNs += Math.max(0, waitNs);
      return;
    }
    const t0 = performance.now();
    if (waitNs > 0) this.control.waitForData(Math.min(waitNs / 1e6, 50));
    this.idleNs += Math.max(0, Math.min(waitNs, (performance.now() - t0) * 1e6));
  }
}

/**
 * Starts the thread that compiles hot pages to wasm for this CPU (MachineConfig.compileWorker)
 * and returns the CPU's end of its port; it ends with the CPU thread.
 */
function startCompileWorker(config: MachineConfig, guestMemory: WebAssembly.Memory): MessagePort | undefined {
  const w = config.compileWorker;
  if (!w) return undefined;
  const { port1, port2 } = new MessageChannel();
  const worker = startWorker(new URL(w.entry), w.bundle ? new URL(w.bundle) : null, { workerData: { memory: guestMemory, ramBytes: config.ramBytes, port: port2 }, transferList: [port2], name: 'region-compiler' });
  worker.unref();
  return port1;
}
