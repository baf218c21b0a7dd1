import { EventEmitter } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { parseBzImage } from './machine/linux-boot.js';
import type { Worker } from 'node:worker_threads';
import { RemoteDevice, sessionTag, type DeviceState } from '@quasivm/device-sdk';
import { allocateGuestMemory } from '@quasivm/x86';
import type { TrafficTap } from '@quasivm/nats-tap';
import { encodeDeadline } from './machine/deadlines.js';
import { loadFirmware, optionRomsFor, primaryHardDisks, vgaBiosImage } from './machine/firmware.js';
import { fontFromVgaBios } from './machine/vga-text-setup.js';
import { DEFAULT_NS_PER_INSTRUCTION, DEFAULT_RAM_MIB, type MachineConfig, type RemoteDeviceSlot } from './machine/vm-config.js';
import { Control, encodeNames, type CpuStats, type FromCpu, type VmRunState } from './machine/worker-messages.js';
import { createBridgeBuffers, RemoteIoPump, type BridgeBuffers } from './remote-io-bridge.js';
import { SharedRing } from './shared-ring.js';
import { startWorker } from './ts-worker.js';
import { holdRegionTiering } from './soft/region-tiering.js';
import { workerBundle } from './worker-bundle.js';
import { chooseBackend } from './kvm/kvm-device-path.js';
import { KvmVmLink } from './kvm/kvm-vm-link.js';
import { DeviceGates } from './device-gates.js';
import { moveDeviceSession, type MoveOutcome } from './device-move.js';

export type BackendKind = 'soft' | 'kvm' | 'auto';

/** Where the CPU thread reaches a remote device's session directly: its fast lane, unless off (QUASIVM_FAST_LANE=0) or absent. */
function fastLaneOf(remote: RemoteDevice): { path: string; sessionId: string } | null {
  return remote.fastLanePath && process.env.QUASIVM_FAST_LANE !== '0' ? { path: remote.fastLanePath, sessionId: remote.sessionId } : null;
}

/** A device served by another process: which service, and the session's configuration. */
export interface RemoteDeviceSpec {
  device: string;
  address: string;
  config?: Record<string, string>;
}

export interface VmSpec {
  id: string;
  name?: string;
  ramMiB?: number;
  backend?: BackendKind;
  /** 'seabios' (default), a path, or the image bytes. */
  firmware?: string | Uint8Array;
  devices?: RemoteDeviceSpec[];
  nsPerInstruction?: number;
  realtime?: boolean;
  /** Direct kernel boot, like QEMU's -kernel: a bzImage (path or bytes), an initrd and a command line. */
  kernel?: string | Uint8Array;
  initrd?: string | Uint8Array;
  cmdline?: string;
  tap?: TrafficTap;
}

const TWO32 = 0x1_0000_0000;

/** A file named in a VM spec, or its bytes; a missing file is a clear error. */
function readInput(source: string | Uint8Array, what: string): Uint8Array {
  if (source instanceof Uint8Array) return source;
  if (!existsSync(source)) throw new Error(`${what} ${source} not found`);
  return new Uint8Array(readFileSync(source));
}
const SERIAL_KEEP = 1 << 20;

/** The soft backend's region compile thread (MachineConfig.compileWorker). */
const COMPILE_WORKER = new URL('./soft/region-compile-worker.ts', import.meta.url);

/**
 * One VM as the main thread sees it: lifecycle, remote device sessions, the bridge pump,
 * serial console and counters. The guest itself runs on a CPU thread.
 * Events: 'state' (state, reason), 'serial' (Uint8Array), 'debug-console' (Uint8Array), 'event'.
 */
export class Vm extends EventEmitter {
  state: VmRunState = 'created';
  exitReason = '';
  registers: Record<string, string> | undefined;
  serialLog = '';
  debugLog = '';
  readonly createdAt = Date.now();
  startedAt = 0;
  private worker: Worker | null = null;
  /** The CPU thread's bundled module (null: it runs under tsx). */
  private workerModule: URL | null = null;
  private control!: SharedRing;
  private ram!: SharedArrayBuffer;
  /** Soft backend: the WebAssembly memory `ram` belongs to (guest RAM first, then CPU state). */
  private wasmMemory: WebAssembly.Memory | undefined;
  private pump: RemoteIoPump | null = null;
  private remotes: RemoteDevice[] = [];
  private bridge!: BridgeBuffers;
  private config!: MachineConfig;
  private lastStats: CpuStats | null = null;
  private resolvedBackend: 'soft' | 'kvm' = 'soft';
  /** KVM backend: the main thread's side of the CPU thread (IRQs, deadlines, kicks, guest RAM). */
  private kvm: KvmVmLink | null = null;
  /** Device indexes being moved to another service now. */
  private readonly moving = new Set<number>();

  private constructor(readonly spec: VmSpec) {
    super();
  }

  get id(): string {
    return this.spec.id;
  }

  get backend(): 'soft' | 'kvm' {
    return this.resolvedBackend;
  }

  /** Builds the VM: loads firmware, attaches every remote device. Fails with a clear message. */
  static async create(spec: VmSpec): Promise<Vm> {
    const vm = new Vm(spec);
    vm.resolvedBackend = chooseBackend(spec.backend);
    const firmware = spec.firmware instanceof Uint8Array ? spec.firmware : loadFirmware(spec.firmware);
    const ramBytes = (spec.ramMiB ?? DEFAULT_RAM_MIB) * 1024 * 1024;
    if (!Number.isInteger(ramBytes) || ramBytes < 1 << 20 || ramBytes > 3 * 1024 * 1024 * 1024) throw new Error(`RAM of ${spec.ramMiB} MiB is outside 1..3072 MiB`);
    // Soft backend: guest RAM at the start of a shared WebAssembly memory, which also
    // holds the CPU state compiled wasm uses (@quasivm/x86 wasm/wasm-state.ts).
    if (vm.resolvedBackend === 'soft') {
      vm.wasmMemory = allocateGuestMemory(ramBytes).memory;
      vm.ram = vm.wasmMemory.buffer as SharedArrayBuffer;
    } else {
      vm.ram = new SharedArrayBuffer(0);
    }
    if (vm.resolvedBackend === 'kvm') vm.kvm = new KvmVmLink((m) => vm.onCpuMessage(m), (message) => vm.emit('device-error', { device: 'vcpu', message }));
    // The CPU thread's code, bundled once (worker-bundle.ts), ready for start().
    vm.workerModule = await workerBundle(vm.workerEntry());
    vm.control = SharedRing.create(1 << 16);
    vm.bridge = createBridgeBuffers();
    const slots: RemoteDeviceSlot[] = [];
    try {
      for (const [index, d] of (spec.devices ?? []).entries()) {
        const remote = await RemoteDevice.connect(d.address, spec.id, d.config ?? {}, vm.remoteEvents(d.device, index));
        vm.remotes.push(remote);
        const desc = remote.description!;
        const fastLane = fastLaneOf(remote) ?? undefined;
        slots.push({ name: d.device, index, ports: desc.ports, memoryWindows: desc.memoryWindows, pciFunctions: desc.pciFunctions ?? [], windowModePorts: desc.windowModePorts ?? [], fastLane });
      }
    } catch (e) {
      for (const r of vm.remotes) r.close();
      throw new Error(`cannot attach devices of VM ${spec.id}: ${(e as Error).message}`);
    }
    vm.config = {
      vmId: spec.id,
      compileWorker: vm.resolvedBackend === 'soft' && process.env.QUASIVM_WASM_BACKGROUND !== '0' ? { entry: COMPILE_WORKER.href, bundle: (await workerBundle(COMPILE_WORKER))?.href ?? null } : undefined,
      ramBytes,
      firmware,
      baseEpochMs: Date.now(),
      cpuCount: 1,
      nsPerInstruction: spec.nsPerInstruction ?? DEFAULT_NS_PER_INSTRUCTION,
      realtime: spec.realtime ?? true,
      optionRoms: spec.firmware instanceof Uint8Array ? [] : optionRomsFor((spec.devices ?? []).map((d) => d.device)),
      hardDisks: primaryHardDisks(spec.devices?.find((d) => d.device === 'ide')?.config),
      remoteDevices: slots,
      reportLaneIrqs: !!spec.tap,
      linuxBoot: spec.kernel
        ? {
            kernel: readInput(spec.kernel, 'kernel'),
            initrd: spec.initrd ? readInput(spec.initrd, 'initrd') : undefined,
            cmdline: spec.cmdline ?? '',
            // No VGA BIOS runs before the kernel: the loader sets text mode with its font (vga-text-setup.ts).
            textFont: spec.devices?.some((d) => d.device === 'vga') ? fontFromVgaBios(vgaBiosImage()) : undefined,
          }
        : undefined,
    };
    if (vm.config.linuxBoot) parseBzImage(vm.config.linuxBoot.kernel); // a bad kernel is refused at create, not at start
    return vm;
  }

  private remoteEvents(device: string, index: number) {
    const guest = () => (this.kvm ? this.kvm.guestRam() : new Uint8Array(this.ram, 0, this.config.ramBytes));
    return {
      onIrq: (line: number, level: boolean, t: number, seq: number, sessionId: string) => {
        if (this.kvm) this.kvm.irqLine(line, level);
        // The CPU thread notes which change of which session it applied: its fast lane may carry the next ones (proto OpenStream.irqs_on_lane).
        else this.push([Control.Irq, line, level ? 1 : 0, index, seq % TWO32 | 0, Math.floor(seq / TWO32), sessionTag(sessionId)]);
        this.spec.tap?.irq(line, level, t, device);
      },
      onIrqDeadline: (line: number, at: number | null, period: number) => {
        if (this.kvm) return this.kvm.setDeadline(line, at, period);
        this.push([Control.IrqDeadline, ...encodeDeadline(line, at, period)]);
      },
      onMemoryRead: (addr: number, len: number) => {
        if (addr < 0 || addr + len > guest().byteLength) throw new Error(`guest memory 0x${addr.toString(16)}+${len} is outside RAM`);
        return guest().slice(addr, addr + len);
      },
      onMemoryWrite: (addr: number, data: Uint8Array) => {
        if (addr < 0 || addr + data.byteLength > guest().byteLength) throw new Error(`guest memory 0x${addr.toString(16)}+${data.byteLength} is outside RAM`);
        guest().set(data, addr);
        // The soft CPU caches decoded code: tell it the device wrote there (ordered before the device's IRQ).
        if (!this.kvm) this.push([Control.InvalidateCode, addr % TWO32 | 0, Math.floor(addr / TWO32), data.byteLength]);
      },
      onEvent: (kind: string, detail: unknown) => {
        this.emit('event', { kind, device, detail });
        this.spec.tap?.event(kind, { device, detail });
      },
      onError: (err: Error) => this.emit('device-error', { device, message: err.message }),
      // The CPU thread holds the mapped windows and the fast lane their bytes travel on: it answers.
      onWindowSync: (requestId: number) => this.push([Control.SyncWindows, index, requestId]),
      onClaimsChanged: (ports: Array<{ base: number; length: number }>, windows: Array<{ base: number; length: number }>) => {
        this.push([
          Control.ClaimsChanged,
          index,
          ports.length,
          ...ports.flatMap((p) => [p.base, p.length]),
          windows.length,
          ...windows.flatMap((w) => [w.base % TWO32 | 0, Math.floor(w.base / TWO32), w.length | 0]),
        ]);
        this.spec.tap?.event('claims-changed', { device, ports: ports.map((p) => ({ base: `0x${p.base.toString(16)}`, length: p.length })) });
      },
    };
  }

  private push(words: number[]): void {
    if (!this.control.tryPush(words)) this.emit('device-error', { device: 'vcpu', message: 'control ring full: record dropped' });
    this.kvm?.kick();
  }

  /** The CPU thread's entry module for this VM's backend. */
  private workerEntry(): URL {
    return new URL(this.resolvedBackend === 'kvm' ? './kvm/kvm-vcpu-worker.ts' : './soft/soft-vcpu-worker.ts', import.meta.url);
  }

  start(): void {
    if (this.worker) throw new Error(`VM ${this.id} is already started`);
    this.pump = new RemoteIoPump(this.bridge, this.remotes, (i, e) => this.emit('device-error', { device: this.spec.devices?.[i]?.device, message: e.message }));
    this.pump.start();
    this.startedAt = Date.now();
    // Regions compiled on the compile thread go straight to TurboFan while this VM runs (region-tiering.ts).
    const releaseTiering = this.config.compileWorker ? holdRegionTiering() : () => undefined;
    this.worker = startWorker(this.workerEntry(), this.workerModule, {
      workerData: { config: this.config, wasmMemory: this.wasmMemory, control: this.control.buffer, bridge: this.bridge, link: this.kvm?.buffers },
    });
    this.kvm?.start();
    this.worker.on('message', (m: FromCpu) => (this.kvm ? this.kvm.onWorkerMessage(m) : this.onCpuMessage(m)));
    this.worker.on('error', (e) => this.setState('crashed', `CPU thread failed: ${e.message}`));
    this.worker.on('exit', () => {
      releaseTiering();
      this.worker = null;
      this.kvm?.release();
      this.pump?.stop();
      if (this.state === 'running' || this.state === 'paused') this.setState('crashed', 'CPU thread exited');
    });
    this.spec.tap?.onTracing((devices) => this.push([Control.Trace, ...encodeNames(devices)]));
    this.spec.tap?.event('started', { backend: this.backend });
  }

  private setState(state: VmRunState, reason?: string): void {
    this.state = state;
    if (reason !== undefined) this.exitReason = reason;
    this.emit('state', state, reason);
    this.spec.tap?.event('state', { state, ...(reason ? { reason } : {}) });
  }

  private onCpuMessage(m: FromCpu): void {
    switch (m.type) {
      case 'serial': {
        const text = Buffer.from(m.data).toString('latin1');
        this.serialLog = (this.serialLog + text).slice(-SERIAL_KEEP);
        this.emit('serial', m.data);
        break;
      }
      case 'debug-console':
        this.debugLog = (this.debugLog + Buffer.from(m.data).toString('latin1')).slice(-SERIAL_KEEP);
        this.emit('debug-console', m.data);
        break;
      case 'state':
        this.registers = m.registers ?? this.registers;
        this.setState(m.state, m.reason);
        break;
      case 'event':
        this.emit('event', m);
        this.spec.tap?.event(m.kind, m.detail);
        break;
      case 'stats':
        this.lastStats = m.stats;
        this.emit('stats', m.stats);
        break;
      case 'irq':
        this.spec.tap?.irq(m.line, m.level, m.t, m.device);
        break;
      case 'io-trace':
        this.spec.tap?.io(m.device, m.dir, m.port, m.size, m.value, m.t);
        break;
    }
  }

  pause(): void {
    this.push([Control.Pause]);
  }

  resume(): void {
    this.push([Control.Resume]);
  }

  reset(): void {
    this.push([Control.Reset]);
  }

  sendSerial(data: Uint8Array): void {
    this.push([Control.SerialInput, ...data]);
  }

  /** Key presses for the i8042, as PS/2 set-2 scan codes (make and break). */
  sendKeys(set2: ArrayLike<number>): void {
    for (let i = 0; i < set2.length; i += 4096) this.push([Control.Keys, ...Array.from(set2).slice(i, i + 4096)]);
  }

  /** Asks the CPU thread for fresh counters. */
  stats(timeoutMs = 2000): Promise<CpuStats | null> {
    if (!this.worker) return Promise.resolve(this.lastStats);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(this.lastStats), timeoutMs);
      this.once('stats', (s: CpuStats) => {
        clearTimeout(timer);
        resolve(s);
      });
      this.push([Control.Stats]);
    });
  }

  /**
   * A remote device's whole state, from its service's SaveState (which first asks the CPU
   * thread for the bytes the guest wrote to mapped windows): what a snapshot is made of.
   */
  saveDeviceState(device: string): Promise<DeviceState> {
    const remote = this.remotes[(this.spec.devices ?? []).findIndex((d) => d.device === device)];
    if (!remote) return Promise.reject(new Error(`VM ${this.id} has no remote device ${JSON.stringify(device)}`));
    return remote.saveState();
  }

  /**
   * Moves the session of remote device `device` to the service at `address` while the VM
   * runs (see device-move.ts): the guest's next access to it waits, nothing else does.
   */
  async moveDevice(device: string, address: string): Promise<MoveOutcome> {
    const devices = this.spec.devices ?? [];
    const index = devices.findIndex((d) => d.device === device);
    if (index < 0) throw new Error(`VM ${this.id} has no remote device ${JSON.stringify(device)}`);
    if (!address) throw new Error('a device service address (host:port or unix:/path) is required');
    if (this.state === 'shut-down' || this.state === 'crashed') throw new Error(`VM ${this.id} is ${this.state}`);
    if (this.moving.has(index)) throw new Error(`${device} of VM ${this.id} is already being moved`);
    const slot = this.config.remoteDevices[index];
    if (this.worker && slot.fastLane && slot.windowModePorts?.length && process.env.QUASIVM_MAP_WINDOWS !== '0')
      throw new Error(`${device} maps its memory windows into the guest over its fast lane; moving it while the VM runs is not supported`);
    this.moving.add(index);
    const pump = this.pump;
    try {
      const outcome = await moveDeviceSession({
        vmId: this.id,
        device,
        index,
        fromAddress: devices[index].address,
        toAddress: address,
        config: devices[index].config ?? {},
        current: this.remotes[index],
        events: this.remoteEvents(device, index),
        cpu: this.worker && pump ? { gates: new DeviceGates(this.bridge.gates!), askHold: () => this.push([Control.HoldDevice, index]), whenHeld: (ms) => pump.whenHeld(index, ms) } : null,
        laneFor: fastLaneOf,
        install: (remote, at) => {
          this.remotes[index] = remote;
          devices[index] = { ...devices[index], address: at };
          slot.fastLane = fastLaneOf(remote) ?? undefined;
        },
      });
      this.emit('event', { kind: 'device-moved', device, detail: outcome });
      this.spec.tap?.event('device-moved', { ...outcome });
      return outcome;
    } finally {
      this.moving.delete(index);
    }
  }

  /** Stops the guest and ends its device sessions. */
  async stop(): Promise<void> {
    if (this.worker) {
      const exited = new Promise((r) => this.worker!.once('exit', r));
      this.push([Control.Stop]);
      const timer = setTimeout(() => void this.worker?.terminate(), 3000);
      await exited;
      clearTimeout(timer);
    }
    this.pump?.stop();
    for (const r of this.remotes) await r.detach().catch(() => undefined);
    for (const r of this.remotes) r.close();
    this.remotes = [];
    if (this.state !== 'crashed') this.setState('shut-down', this.exitReason || 'stopped');
  }

  /** Waits until serial output contains `text` (or rejects after `timeoutMs`). */
  waitForSerial(text: string | RegExp, timeoutMs: number): Promise<string> {
    const match = () => (typeof text === 'string' ? this.serialLog.includes(text) : text.test(this.serialLog));
    if (match()) return Promise.resolve(this.serialLog);
    return new Promise((resolve, reject) => {
      const onData = () => {
        if (!match()) return;
        cleanup();
        resolve(this.serialLog);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`serial output did not show ${String(text)} within ${timeoutMs} ms (state ${this.state}; got ${JSON.stringify(this.serialLog.slice(-300))})`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.off('serial', onData);
      };
      this.on('serial', onData);
    });
  }

  waitForState(states: VmRunState[], timeoutMs: number): Promise<VmRunState> {
    if (states.includes(this.state)) return Promise.resolve(this.state);
    return new Promise((resolve, reject) => {
      const onState = (s: VmRunState) => {
        if (!states.includes(s)) return;
        clearTimeout(timer);
        this.off('state', onState);
        resolve(s);
      };
      const timer = setTimeout(() => {
        this.off('state', onState);
        reject(new Error(`VM did not reach ${states.join('/')} within ${timeoutMs} ms (state ${this.state}, ${this.exitReason})`));
      }, timeoutMs);
      this.on('state', onState);
    });
  }
}
