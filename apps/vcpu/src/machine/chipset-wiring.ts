/**
 * The one module that owns port numbers (DESIGN.md, "Devices see offsets; one wiring
 * module owns port numbers"): it builds the local chipset models and inserts each into
 * the I/O bus at its named range. Both CPU backends use it.
 */
import type { DeviceHost, DeviceModel } from '@quasivm/device-sdk';
import {
  CMOS_RTC_PORTS,
  COM1_PORTS,
  CmosRtc,
  DebugConsole,
  FW_CFG_PORTS,
  FwCfg,
  PCI_HOST_BRIDGE_PORTS,
  PciHostBridge,
  POST_CODE_PORTS,
  PostCodePort,
  ResetControl,
  SYSTEM_CONTROL_PORT_A_PORTS,
  SystemControlPortA,
  Uart16550,
  DEBUG_CONSOLE_PORTS,
  BOCHS_DEBUG_PORTS,
  I8042,
  I8042_DATA_PORTS,
  I8042_COMMAND_PORTS,
} from '@quasivm/chipset';
import type { IoBus } from '../io-bus.js';

export interface ChipsetOptions {
  ramBytes: number;
  cpuCount: number;
  baseEpochMs: number;
  hardDisks?: number;
  optionRoms?: Array<{ name: string; data: Uint8Array }>;
  onSerial(byte: number): void;
  onDebugOutput(byte: number): void;
  onA20(enabled: boolean): void;
  onReset(reason: string): void;
}

export interface Chipset {
  uart: Uart16550;
  cmos: CmosRtc;
  fwCfg: FwCfg;
  pci: PciHostBridge;
  debugConsole: DebugConsole;
  post: PostCodePort;
  portA: SystemControlPortA;
  resetControl: ResetControl;
  keyboard: I8042;
  /** Every local model by name, for save/restore and counters. */
  models: Map<string, DeviceModel>;
}

export function wireChipset(bus: IoBus, host: (device: string) => DeviceHost, o: ChipsetOptions): Chipset {
  const uart = new Uart16550(host('uart'), { onTransmit: o.onSerial });
  const cmos = new CmosRtc(host('cmos'), { baseEpochMs: o.baseEpochMs, ramSize: o.ramBytes, cpuCount: o.cpuCount, hardDisks: o.hardDisks ?? 0 });
  const fwCfg = new FwCfg({ ramSize: o.ramBytes, cpuCount: o.cpuCount });
  for (const rom of o.optionRoms ?? []) fwCfg.addFile(rom.name, rom.data);
  const resetControl = new ResetControl({ onReset: (kind) => o.onReset(`reset control register 0xcf9 (${kind})`) });
  const pci = new PciHostBridge({ legacy: resetControl });
  const debugConsole = new DebugConsole({ onOutput: o.onDebugOutput });
  const post = new PostCodePort();
  const portA = new SystemControlPortA({ onA20Change: o.onA20, onReset: () => o.onReset('fast reset through port 0x92') });

  const keyboard = new I8042(host('i8042'), { onA20Change: o.onA20, onReset: () => o.onReset('keyboard controller reset line') });

  const insert = (model: DeviceModel, range: { base: number; length: number }, name: string) => bus.insert(model, range.base, range.length, name);
  insert(uart, COM1_PORTS, 'uart');
  insert(cmos, CMOS_RTC_PORTS, 'cmos');
  insert(fwCfg, FW_CFG_PORTS, 'fw-cfg');
  insert(pci, PCI_HOST_BRIDGE_PORTS, 'pci');
  insert(debugConsole, DEBUG_CONSOLE_PORTS, 'debug-console');
  bus.insert(debugConsole, BOCHS_DEBUG_PORTS.base, BOCHS_DEBUG_PORTS.length, 'debug-console-e9');
  insert(post, POST_CODE_PORTS, 'post');
  insert(portA, SYSTEM_CONTROL_PORT_A_PORTS, 'port-a');
  insert(keyboard, I8042_DATA_PORTS, 'i8042');
  bus.insert(keyboard, I8042_COMMAND_PORTS.base, I8042_COMMAND_PORTS.length, 'i8042-command');

  const models = new Map<string, DeviceModel>([
    ['uart', uart],
    ['cmos', cmos],
    ['fw-cfg', fwCfg],
    ['pci', pci],
    ['debug-console', debugConsole],
    ['post', post],
    ['port-a', portA],
    ['i8042', keyboard],
  ]);
  return { uart, cmos, fwCfg, pci, debugConsole, post, portA, resetControl, keyboard, models };
}
