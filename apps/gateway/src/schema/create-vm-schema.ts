// JSON schema of a CreateVmRequest as HTTP clients send it: the proto3 JSON form of the
// message (lowerCamelCase fields), with the backend also accepted as "soft" / "kvm" / "auto".
export const DEVICE_NAMES = ['vga', 'ide', 'timer'] as const;
export const DISK_SLOTS = ['primary-master', 'primary-slave', 'secondary-master', 'secondary-slave'] as const;
export const BACKENDS = ['auto', 'kvm', 'soft', 'CPU_BACKEND_AUTO', 'CPU_BACKEND_KVM', 'CPU_BACKEND_SOFT'] as const;
export const MAX_RAM_MIB = 3072;

/** host:port, [v6]:port or unix:/path, as gRPC takes them. */
const ADDRESS_PATTERN = '^(unix:/\\S+|[A-Za-z0-9.-]+:[0-9]{1,5}|\\[[0-9A-Fa-f:.]+\\]:[0-9]{1,5})$';
const PATH = { type: 'string', minLength: 1, maxLength: 4096 } as const;

export const createVmSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: { type: 'string', maxLength: 64, pattern: '^[^\\x00-\\x1f]*$', description: 'text without control characters' },
    ramMib: { type: 'integer', minimum: 1, maximum: MAX_RAM_MIB },
    backend: { type: 'string', enum: BACKENDS },
    firmware: PATH,
    disks: {
      type: 'array',
      maxItems: 4,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['slot', 'image'],
        properties: {
          slot: { type: 'string', enum: DISK_SLOTS },
          image: PATH,
          readOnly: { type: 'boolean' },
          cdrom: { type: 'boolean' },
          overlay: { type: 'boolean' },
        },
      },
    },
    devices: {
      type: 'array',
      maxItems: 16,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['device', 'address'],
        properties: {
          device: { type: 'string', enum: DEVICE_NAMES },
          address: { type: 'string', maxLength: 1024, pattern: ADDRESS_PATTERN, description: 'host:port, [ipv6]:port or unix:/path' },
        },
      },
    },
    kernel: PATH,
    initrd: PATH,
    cmdline: { type: 'string', maxLength: 4096 },
  },
} as const;

/** SendKeys: either text or scancodes (base64), not both. */
/** POST /api/vms/:id/devices/:device/move: where the device's session goes. */
export const moveDeviceSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['address'],
  properties: {
    address: { type: 'string', maxLength: 1024, pattern: ADDRESS_PATTERN, description: 'host:port, [ipv6]:port or unix:/path of a device service' },
  },
} as const;

export const sendKeysSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    text: { type: 'string', minLength: 1, maxLength: 4096 },
    scancodes: { type: 'string', minLength: 1, maxLength: 8192, pattern: '^[A-Za-z0-9+/]+={0,2}$', description: 'base64' },
  },
  oneOf: [{ required: ['text'] }, { required: ['scancodes'] }],
} as const;
