/** Everything needed to build one VM's machine, as passed to the CPU thread (structured-clone safe). */
export interface MachineConfig {
  vmId: string;
  /**
   * Soft backend: the thread that compiles hot pages to wasm beside the CPU thread
   * (soft/region-compile-worker.ts, its bundle or null for tsx); absent: compiled on the
   * CPU thread (QUASIVM_WASM_BACKGROUND=0).
   */
  compileWorker?: { entry: string; bundle: string | null };
  ramBytes: number;
  /** Firmware image bytes (SeaBIOS bios.bin, or a flat test guest); mapped below 1 MiB and below 4 GiB. */
  firmware: Uint8Array;
  /** Wall-clock time at guest time 0 (ms since the epoch), for the RTC. */
  baseEpochMs: number;
  cpuCount: number;
  /** Soft backend: guest nanoseconds per retired instruction (guest time = instruction count x this). */
  nsPerInstruction: number;
  /** Soft backend: when halted waiting for a timer, sleep in real time (true) or jump ahead (false: fast, repeatable). */
  realtime: boolean;
  /** Option ROMs handed to the firmware as fw_cfg files (e.g. vgaroms/vgabios-stdvga.bin). */
  optionRoms?: Array<{ name: string; data: Uint8Array }>;
  /** ATA hard disks on the primary IDE channel (CMOS 0x12), 0-2. */
  hardDisks?: number;
  /** Direct kernel boot (Linux 32-bit boot protocol): the CPU starts in the kernel, not the firmware. */
  linuxBoot?: { kernel: Uint8Array; initrd?: Uint8Array; cmdline: string; textFont?: Uint8Array };
  /** Remote devices: their index in the bridge and the port ranges / windows they claim. */
  remoteDevices: RemoteDeviceSlot[];
  /** Soft backend: IRQ changes that come on a fast lane are sent to the main thread too (it publishes IRQs on NATS). */
  reportLaneIrqs?: boolean;
}

export interface RemoteDeviceSlot {
  name: string;
  index: number;
  ports: Array<{ base: number; length: number }>;
  memoryWindows: Array<{ base: number; length: number }>;
  /** The device service's fast lane for this session, when offered (same host). */
  fastLane?: { path: string; sessionId: string };
  /** PCI functions of the device and the bus-0 slot each takes. */
  pciFunctions: Array<{ device: number; function: number }>;
  /** Ports after whose writes the device's window modes may change (device.proto WindowQuery); none: always trap. */
  windowModePorts?: Array<{ base: number; length: number }>;
}

/** Default guest RAM: 128 MiB, as the vcpu issue asks. */
export const DEFAULT_RAM_MIB = 128;
/**
 * Soft backend: guest nanoseconds per instruction, a virtual 500 MHz CPU (TSC at 500 MHz).
 * The soft CPU runs 400-2000 M instructions/s here, so a busy guest's clock runs about as fast
 * as the wall clock, as under QEMU's TCG and v86 (both real time). It was 10 (100 MHz): a busy
 * guest's clock then ran 4-10x ahead of the wall clock, and Linux did that many more timer ticks
 * (timekeeping, scheduler, softirqs, each through region exits) per instruction of real work:
 * direct boot to the marker 17.2 -> 14.6 s, via SeaBIOS 19.5 -> 15.4 s, with ~2 % more
 * instructions (udelay loops spin 5x as many per microsecond).
 */
export const DEFAULT_NS_PER_INSTRUCTION = 2;
