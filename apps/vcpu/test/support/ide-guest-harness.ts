import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServiceProcess, unixAddress, type ServiceProcess } from '@quasivm/testing';
import { buildGuests } from '../../../../guests/build.mjs';
import type { TrafficTap } from '@quasivm/nats-tap';
import { Vm } from '../../src/vm.js';
import { kvmUnavailableReason } from '../../src/kvm/kvm-device-path.js';

/**
 * What the IDE guest tests share: a real apps/ide service in a child process serving
 * image files from a temporary data directory, images whose sectors say which LBA they
 * are, and a way to run one nasm guest (with its parameters patched) on a backend.
 */
export const IDE_MAIN = fileURLToPath(new URL('../../../ide/src/main.ts', import.meta.url));
export const SECTOR = 512;
const PARAMS = 0xffe0;

/** The first dword of every sector of a test image: a tag plus the low bits of its LBA. */
export const sectorHead = (lba: number) => (0x5ec00000 + lba) >>> 0;

export class IdeRig {
  readonly dataDir = mkdtempSync(path.join(tmpdir(), 'qvm-ide-rig-'));
  service!: ServiceProcess;
  vm: Vm | null = null;

  async start(): Promise<void> {
    this.service = await startServiceProcess(IDE_MAIN, unixAddress('ide'), ['--data-dir', this.dataDir]);
  }

  async stop(): Promise<void> {
    await this.vm?.stop();
    await this.service?.stop('SIGKILL');
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  file(name: string): string {
    return path.join(this.dataDir, name);
  }

  /**
   * A (sparse) image of `sectors` sectors; the sectors listed in `tagged` get their head
   * dword (sectorHead(lba)), everything else reads as zeros.
   */
  makeImage(name: string, sectors: number, tagged: Iterable<number>): void {
    const fd = openSync(this.file(name), 'w');
    try {
      const head = Buffer.alloc(4);
      for (const lba of tagged) {
        head.writeUInt32LE(sectorHead(lba));
        writeSync(fd, head, 0, 4, lba * SECTOR);
      }
      writeSync(fd, Buffer.alloc(1), 0, 1, sectors * SECTOR - 1);
    } finally {
      closeSync(fd);
    }
  }

  /** `count` sectors of an image, read from the file as the service left it. */
  sectors(name: string, lba: number, count: number): Buffer {
    const fd = openSync(this.file(name), 'r');
    try {
      const out = Buffer.alloc(count * SECTOR);
      let done = 0;
      while (done < out.length) {
        const n = readSync(fd, out, done, out.length - done, lba * SECTOR + done);
        if (n === 0) break;
        done += n;
      }
      return out;
    } finally {
      closeSync(fd);
    }
  }

  /** Starts guest `name` (its parameters patched when given) on `backend` with the IDE config. */
  async launch(backend: 'soft' | 'kvm', name: string, config: Record<string, string>, params: [number, number] | null, tap?: TrafficTap): Promise<Vm> {
    await this.vm?.stop();
    this.vm = null;
    const image = new Uint8Array(readFileSync(buildGuests({ quiet: true })[name]));
    if (params) {
      const view = new DataView(image.buffer);
      view.setUint32(PARAMS + 4, params[0] >>> 0, true);
      view.setUint32(PARAMS + 8, params[1] >>> 0, true);
    }
    this.vm = await Vm.create({
      id: `${name}-${backend}`,
      backend,
      ramMiB: 2,
      realtime: false,
      firmware: image,
      devices: [{ device: 'ide', address: this.service.address, config }],
      tap,
    });
    this.vm.start();
    return this.vm;
  }

  /** Runs guest `name` until `until` shows on its serial port, stops it and returns the log. */
  async run(backend: 'soft' | 'kvm', name: string, config: Record<string, string>, params: [number, number] | null, until: RegExp, timeoutMs = 60_000): Promise<string> {
    const vm = await this.launch(backend, name, config, params);
    const log = await vm.waitForSerial(until, timeoutMs);
    await vm.stop();
    this.vm = null;
    return log;
  }
}

const kvmMissing = kvmUnavailableReason();
/** Both backends; KVM's case is skipped, saying why, where /dev/kvm cannot be used. */
export const BACKENDS = [
  { backend: 'soft' as const, skip: false, note: '' },
  { backend: 'kvm' as const, skip: kvmMissing !== null, note: kvmMissing !== null ? ' (skipped: /dev/kvm not available; the soft backend covers it)' : '' },
];

/** The hex the guests print: 0x and 8 lowercase digits. */
export const hex = (v: number) => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;
