/** The nasm test guests of guests/, built on demand and loaded per guests/README.md. */
import { readFileSync } from 'node:fs';
import { buildGuests } from '../../../../guests/build.mjs';

/** Guest-physical address of image byte 0; images are 64 KiB, ending at 0xFFFFF. */
export const GUEST_LOAD_ADDRESS = 0xf0000;
export const GUEST_IMAGE_SIZE = 0x10000;
/** Execution starts at F000:FFF0 (physical 0xFFFF0), the reset vector. */
export const GUEST_ENTRY_CS = 0xf000;
export const GUEST_ENTRY_IP = 0xfff0;
/** Parameter block: 'QVMP', param0 (u32), param1 (u32) at this image offset. */
export const GUEST_PARAMS_OFFSET = 0xffe0;

let images: Record<string, string> | undefined;

export interface GuestParams {
  param0?: number;
  param1?: number;
}

/** The image of guest `name` with its parameter block patched. */
export function guestImage(name: string, params: GuestParams = {}): Uint8Array {
  images ??= buildGuests({ quiet: true });
  const path = images[name];
  if (!path) throw new Error(`no guest named ${name} (have ${Object.keys(images).join(', ')})`);
  const image = new Uint8Array(readFileSync(path));
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const magic = String.fromCharCode(...image.subarray(GUEST_PARAMS_OFFSET, GUEST_PARAMS_OFFSET + 4));
  if (image.length !== GUEST_IMAGE_SIZE || magic !== 'QVMP') throw new Error(`${path} is not a quasivm guest image`);
  if (params.param0 !== undefined) view.setUint32(GUEST_PARAMS_OFFSET + 4, params.param0, true);
  if (params.param1 !== undefined) view.setUint32(GUEST_PARAMS_OFFSET + 8, params.param1, true);
  return image;
}
