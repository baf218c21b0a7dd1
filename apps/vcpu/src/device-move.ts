/**
 * Moving a running VM's device session to another service (another replica, or another
 * implementation of the same protocol) without the guest noticing: the CPU thread holds
 * the device's I/O (DeviceGates), the old session's state is saved once the device has
 * applied everything (Barrier), the old session ends (so a disk image's lock is free), a new
 * session is attached where asked and loaded with that state, and the CPU thread's waiting
 * access goes on there. When the new service cannot take it, the state goes back to the
 * service it came from and the move fails with the reason: nothing is lost either way.
 */
import { RemoteDevice, type DeviceState, type RemoteDeviceEvents } from '@quasivm/device-sdk';
import type { DeviceGates, LaneTarget } from './device-gates.js';

/** Longest the CPU thread may take to hold a device (it does so between slices at the latest). */
const HOLD_TIMEOUT_MS = 10_000;

export interface MoveOutcome {
  device: string;
  fromAddress: string;
  toAddress: string;
  /** How long the device's I/O was held: the longest any guest access to it waited. */
  heldMs: number;
  /** Size of the state carried over (JSON bytes). */
  stateBytes: number;
}

export interface MoveContext {
  vmId: string;
  device: string;
  index: number;
  fromAddress: string;
  toAddress: string;
  config: Record<string, string>;
  current: RemoteDevice;
  events: RemoteDeviceEvents;
  /** The running CPU thread's side, or null when the VM has not started (nothing to hold). */
  cpu: { gates: DeviceGates; askHold(): void; whenHeld(timeoutMs: number): Promise<void> } | null;
  /** Where the CPU thread should reach a session directly (its fast lane), or null. */
  laneFor(remote: RemoteDevice): LaneTarget;
  /** Makes `remote` (at `address`) the VM's client for the device. */
  install(remote: RemoteDevice, address: string): void;
}

async function attachWithState(address: string, c: MoveContext, state: DeviceState): Promise<RemoteDevice> {
  const remote = await RemoteDevice.connect(address, c.vmId, c.config, c.events);
  try {
    await remote.loadState(state);
    return remote;
  } catch (e) {
    await remote.detach().catch(() => undefined);
    remote.close();
    throw e;
  }
}

export async function moveDeviceSession(c: MoveContext): Promise<MoveOutcome> {
  const t0 = performance.now();
  let moved: RemoteDevice | null = null;
  try {
    if (c.cpu) {
      const held = c.cpu.whenHeld(HOLD_TIMEOUT_MS);
      c.cpu.gates.ask(c.index);
      c.cpu.askHold();
      await held;
    }
    // Everything the main thread forwarded is applied, then the state is whole.
    await c.current.barrier();
    const state = await c.current.saveState();
    const stateBytes = JSON.stringify(state).length;
    await c.current.detach();
    c.current.close();
    try {
      moved = await attachWithState(c.toAddress, c, state);
      c.install(moved, c.toAddress);
    } catch (e) {
      moved = await attachWithState(c.fromAddress, c, state);
      c.install(moved, c.fromAddress);
      throw new Error(`cannot move ${c.device} to ${c.toAddress}: ${(e as Error).message}; it stays on ${c.fromAddress}`);
    }
    return { device: c.device, fromAddress: c.fromAddress, toAddress: c.toAddress, heldMs: performance.now() - t0, stateBytes };
  } finally {
    // Moved: the CPU thread follows the new session. Not moved (the old one still holds the state): it goes on as before.
    if (c.cpu) {
      if (moved) c.cpu.gates.moved(c.index, c.laneFor(moved));
      else c.cpu.gates.release(c.index);
    }
  }
}
