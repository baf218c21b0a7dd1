// HTTP JSON <-> proto messages. HTTP bodies use the proto3 JSON form of the same messages
// (lowerCamelCase fields, enum names as strings); gRPC requests are checked against the
// same schema after their default (unset) fields are dropped.
import { createVmSchema, moveDeviceSchema, sendKeysSchema } from './schema/create-vm-schema.js';
import { validator, ValidationError } from './schema/validate.js';
import type { CreateVmRequest, MoveDeviceRequest, SendKeysRequest } from './proto-types.js';

interface CreateVmJson {
  name?: string;
  ramMib?: number;
  backend?: string;
  firmware?: string;
  disks?: Array<{ slot: string; image: string; readOnly?: boolean; cdrom?: boolean; overlay?: boolean }>;
  devices?: Array<{ device: string; address: string }>;
  kernel?: string;
  initrd?: string;
  cmdline?: string;
}

const checkCreate = validator<CreateVmJson>(createVmSchema, 'invalid VM spec');
const checkKeys = validator<{ text?: string; scancodes?: string }>(sendKeysSchema, 'invalid keys');

const BACKEND_ENUM: Record<string, CreateVmRequest['backend']> = {
  auto: 'CPU_BACKEND_AUTO',
  kvm: 'CPU_BACKEND_KVM',
  soft: 'CPU_BACKEND_SOFT',
};

function noDuplicates<T>(items: T[] | undefined, key: (t: T) => string, field: string): void {
  const seen = new Set<string>();
  for (const [i, item] of (items ?? []).entries()) {
    const k = key(item);
    if (seen.has(k)) throw new ValidationError(`${field}[${i}]`, `invalid VM spec: field "${field}[${i}]" repeats ${JSON.stringify(k)}`);
    seen.add(k);
  }
}

/** Validates an HTTP JSON body and builds the CreateVmRequest message. */
export function createVmRequestFromJson(body: unknown): CreateVmRequest {
  const j = checkCreate(body);
  noDuplicates(j.devices, (d) => d.device, 'devices');
  noDuplicates(j.disks, (d) => d.slot, 'disks');
  return {
    name: j.name ?? '',
    ramMib: j.ramMib ?? 0,
    backend: BACKEND_ENUM[j.backend ?? 'auto'] ?? (j.backend as CreateVmRequest['backend']),
    firmware: j.firmware ?? '',
    disks: (j.disks ?? []).map((d) => ({ slot: d.slot, image: d.image, readOnly: d.readOnly ?? false, cdrom: d.cdrom ?? false, overlay: d.overlay ?? false })),
    devices: (j.devices ?? []).map((d) => ({ device: d.device, address: d.address })),
    kernel: j.kernel ?? '',
    initrd: j.initrd ?? '',
    cmdline: j.cmdline ?? '',
  };
}

/** Drops proto3 default values ('' / 0 / false / [] / the zero enum) so only set fields remain. */
function setFields(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(setFields);
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === '' || v === 0 || v === false || v === undefined || v === null || v === 'CPU_BACKEND_AUTO') continue;
    if (Array.isArray(v) && v.length === 0) continue;
    out[k] = setFields(v);
  }
  return out;
}

/** The same checks for a CreateVmRequest that came in over gRPC. */
export function checkCreateVmMessage(req: CreateVmRequest): CreateVmRequest {
  return createVmRequestFromJson(setFields(req));
}

/** Validates an HTTP keys body ({text} or {scancodes: base64}) into a SendKeysRequest. */
export function sendKeysRequestFromJson(id: string, body: unknown): SendKeysRequest {
  const j = checkKeys(body);
  return j.text !== undefined ? { id, text: j.text } : { id, scancodes: Buffer.from(j.scancodes!, 'base64') };
}

const checkMove = validator<{ address: string }>(moveDeviceSchema, 'invalid move');

/** Validates an HTTP move body ({address}) into a MoveDeviceRequest; the gRPC one gets the same check. */
export function moveDeviceRequestFromJson(id: string, device: string, body: unknown): MoveDeviceRequest {
  return { id, device, address: checkMove(body).address };
}
