// Debian's 686 Linux through the whole stack on the soft backend, used the way a person uses
// it: the timer, IDE and VGA services, a vcpu service and the gateway in front, each its own
// process. SeaBIOS + SeaVGABIOS boot the guest image from the remote IDE service (the disk
// through syslinux, the ISO through isolinux over ATAPI), or the vCPU loads kernel and initramfs
// itself (direct kernel boot, no BIOS: the loader sets VGA text mode first, as the VGA BIOS
// would have); the kernel's console is the VGA text
// screen and COM1 (console=ttyS0 console=tty0). The test reads the screen through the
// gateway's screen-text API and the serial console through its console WebSocket, types
// `uname -r; cat /proc/interrupts` with the keys API (the shell on tty1) and on the serial
// console (the shell on ttyS0), and looks again later: the timer interrupt (IRQ 0 through the
// 8259 PIC, from the remote timer service) counted on.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { diskImagePath, initramfsPath, isoPath, kernelPath, KERNEL_CMDLINE } from '@quasivm/guest-images';
import { startServiceProcess, unixAddress, type ServiceProcess } from '@quasivm/testing';
import { client, SocketReader, wsUrl } from './support/http.js';
import { REPO, startGatewayProcess, startVcpu, startVga, type GatewayProcess } from './support/processes.js';

const disk = diskImagePath();
const iso = isoPath();
const SEABIOS = '/usr/share/seabios/bios.bin';
const missing = !existsSync(disk) || !existsSync(iso) ? 'guest images not built; run the @quasivm/guest-images build' : !existsSync(SEABIOS) ? "SeaBIOS missing; install Debian's seabios" : null;
const skipNote = missing ? ` (skipped: ${missing})` : '';

const MARKER = 'QUASIVM-GUEST-READY';
const COMMAND = 'uname -r; cat /proc/interrupts';
const SCREEN_COMMAND = 'uname -r; cat /proc/interrupts | head -n 3';
/** The timer's line in /proc/interrupts: "  0:   12345   XT-PIC   timer". */
const TIMER_LINE = /^\s*0:\s+(\d+)\s+XT-PIC\s+timer\s*$/;
const BOOT_MS = 300_000;

let timer: ServiceProcess;
let ide: ServiceProcess;
let vga: ServiceProcess;
let vcpu: ServiceProcess;
let gw: GatewayProcess;
let api: ReturnType<typeof client>;

/** Polls `probe` until it returns something; the failure names what was last seen. */
async function poll<T>(what: () => string, probe: () => Promise<T | undefined | false>, timeoutMs: number, everyMs = 250): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const got = await probe();
    if (got) return got;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
}

beforeAll(async () => {
  if (missing) return;
  [timer, ide, vga] = await Promise.all([
    startServiceProcess(path.join(REPO, 'apps/timer/src/main.ts'), unixAddress('timer')),
    startServiceProcess(path.join(REPO, 'apps/ide/src/main.ts'), unixAddress('ide'), ['--data-dir', path.dirname(disk)]),
    startVga(),
  ]);
  vcpu = await startVcpu();
  gw = await startGatewayProcess({ vcpus: [vcpu.address] });
  api = client(gw.url, gw.token);
}, 60_000);
afterAll(async () => {
  await gw?.stop();
  await Promise.all([vcpu, timer, ide, vga].map((p) => p?.stop('SIGKILL')));
});

/** The screen's rows (trimmed) through the gateway. */
async function screen(id: string): Promise<string[]> {
  const r = await api('GET', `/api/vms/${id}/screen-text`);
  return r.status === 200 ? (r.json.rows as string[]).map((s) => s.trimEnd()) : [];
}

/** Types `text` through the gateway's keys API (US layout, PS/2 make and break codes). */
async function keys(id: string, text: string): Promise<void> {
  const r = await api('POST', `/api/vms/${id}/keys`, { body: { text } });
  expect(r.status, JSON.stringify(r.json)).toBe(200);
}

/** What the last `command` typed on the screen printed: the rows after its echo, once the shell prompts again. */
async function screenAnswer(id: string, command: string, timeoutMs: number): Promise<string[]> {
  let rows: string[] = [];
  return poll(
    () => `the answer to ${JSON.stringify(command)} on the screen (last:\n${rows.join('\n')})`,
    async () => {
      rows = await screen(id);
      // The echo follows the prompt, or starts a row of its own when the kernel printed on
      // the console between the prompt and the typing (the clocksource watchdog's warning).
      const echo = rows.findLastIndex((r) => r.endsWith(`# ${command}`) || r === command);
      const after = echo < 0 ? [] : rows.slice(echo + 1);
      // The next prompt: a row that starts with it (the kernel may print on the console
      // right after it, e.g. the clocksource watchdog's warning).
      return after.some((r) => TIMER_LINE.test(r)) && after.some((r) => /^\S* [#$](\s|$)/.test(r)) && after;
    },
    timeoutMs,
  );
}

/** What `command` typed on the serial console printed, once the shell prompts again. */
async function serialAnswer(serial: SocketReader, from: number, timeoutMs: number): Promise<string[]> {
  return poll(
    () => `the answer on serial (last: ${JSON.stringify(serial.text.slice(from).slice(-800))})`,
    async () => {
      const lines = serial.text.slice(from).split(/\r?\n/);
      return lines.some((l) => TIMER_LINE.test(l)) && /\n[^\n]*[#$] /.test(serial.text.slice(from)) && lines;
    },
    timeoutMs,
  );
}

const timerCount = (lines: string[]) => Number(TIMER_LINE.exec(lines.find((l) => TIMER_LINE.test(l))!)![1]);

/** How a VM boots: SeaBIOS from disks (and the loader banner it prints on COM1), or a kernel handed to the vCPU. */
type Boot =
  | { disks: Array<Record<string, unknown>>; loader: RegExp; cmdline: string }
  | { kernel: string; initrd: string; cmdline: string };

/**
 * Creates and starts a VM booting as `boot` says, waits for the marker on the screen and on
 * serial, runs the command on both shells twice and checks what came back.
 */
async function bootAndUse(name: string, boot: Boot): Promise<void> {
  const t0 = Date.now();
  const created = await api('POST', '/api/vms', {
    body: {
      name,
      ramMib: 128,
      backend: 'soft',
      devices: [
        { device: 'timer', address: timer.address },
        { device: 'ide', address: ide.address },
        { device: 'vga', address: vga.address },
      ],
      ...('disks' in boot ? { disks: boot.disks } : { kernel: boot.kernel, initrd: boot.initrd, cmdline: boot.cmdline }),
    },
  });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  const id = created.json.id as string;
  const serial = await SocketReader.open(wsUrl(gw.url, `/api/vms/${id}/console`), { authorization: `Bearer ${gw.token}` });
  try {
    expect((await api('POST', `/api/vms/${id}/start`)).status).toBe(200);

    // The marker on the screen (tty0 is /dev/console, where /init writes it) and on serial.
    let rows: string[] = [];
    await poll(() => `${MARKER} on the screen (last:\n${rows.join('\n')}\nserial: ${JSON.stringify(serial.text.slice(-500))})`, async () => (rows = await screen(id)).includes(MARKER), BOOT_MS, 1000);
    const tMarker = Date.now();
    await serial.waitForText(MARKER, 10_000);
    const version = /Linux version (6\.1\.\S+-686) /.exec(serial.text)?.[1];
    expect(version, 'the kernel banner on serial').toBeTruthy();
    if ('loader' in boot) expect(serial.text).toMatch(boot.loader); // the boot loader's banner on COM1
    expect(serial.text).toContain(`Kernel command line: ${boot.cmdline}`);
    expect(serial.text).not.toMatch(/Kernel panic|Oops|BUG:/);

    // The screen's shell: type through the keys API once it prompts. /proc/interrupts is
    // longer than the 25-row screen (about 30 lines with the arch counters), so the command
    // typed there first scrolls its head away (its tail and the prompt show), and then the
    // same with `| head -n 3` keeps uname's line and the timer's in view.
    await poll(() => `the prompt on the screen (last:\n${rows.join('\n')})`, async () => (rows = await screen(id)).some((r) => /^\/ #(\s|$)/.test(r)), 60_000);
    await keys(id, `${COMMAND}\n`);
    await poll(() => `the tail of /proc/interrupts on the screen (last:\n${rows.join('\n')})`, async () => {
      rows = await screen(id);
      const nmi = rows.findIndex((r) => /^\s*NMI:\s+\d+/.test(r));
      return nmi >= 0 && rows.slice(nmi).some((r) => /^\/ #(\s|$)/.test(r));
    }, 60_000);
    await keys(id, `${SCREEN_COMMAND}\n`);
    const onScreen = await screenAnswer(id, SCREEN_COMMAND, 60_000);
    expect(onScreen).toContain(version); // uname -r, below the command
    expect(onScreen.some((r) => /^\s+CPU0$/.test(r))).toBe(true);

    // The serial shell: the same command through the console WebSocket.
    await poll(() => `the prompt on serial (last: ${JSON.stringify(serial.text.slice(-500))})`, async () => /\n[^\n]*[#$] /.test(serial.text.slice(serial.text.lastIndexOf(MARKER))), 60_000);
    let from = serial.text.length;
    serial.ws.send(Buffer.from(`${COMMAND}\n`));
    const onSerial = await serialAnswer(serial, from, 60_000);
    expect(onSerial).toContain(version);

    // A few seconds later both show more timer interrupts.
    await new Promise((r) => setTimeout(r, 3000));
    await keys(id, 'cat /proc/interrupts | head -n 3\n');
    const screenLater = await screenAnswer(id, 'cat /proc/interrupts | head -n 3', 60_000);
    from = serial.text.length;
    serial.ws.send(Buffer.from('cat /proc/interrupts\n'));
    const serialLater = await serialAnswer(serial, from, 60_000);
    console.log(
      `${name}: marker on the screen ${((tMarker - t0) / 1000).toFixed(0)} s after create; ${version}; timer IRQs on the screen ${timerCount(onScreen)} -> ${timerCount(screenLater)}, on serial ${timerCount(onSerial)} -> ${timerCount(serialLater)}\n` +
        screenLater.join('\n'),
    );
    expect(timerCount(screenLater)).toBeGreaterThan(timerCount(onScreen));
    expect(timerCount(serialLater)).toBeGreaterThan(timerCount(onSerial));
    expect(timerCount(onSerial)).toBeGreaterThan(timerCount(onScreen));
    expect((await api('GET', `/api/vms/${id}`)).json.state).toBe('VM_STATE_RUNNING');
  } finally {
    serial.close();
    await api('DELETE', `/api/vms/${id}`);
  }
}

test.skipIf(missing)(`gateway: a VM spec with disks but no ide device is refused (400, says why)${skipNote}`, async () => {
  const r = await api('POST', '/api/vms', { body: { name: 'no-ide', backend: 'soft', devices: [{ device: 'timer', address: timer.address }], disks: [{ slot: 'primary-master', image: 'disk.img' }] } });
  expect(r.status).toBe(400);
  expect(r.json.error.message).toContain('disks need an ide device');
});

test.skipIf(missing)(
  `soft backend through the gateway: SeaBIOS boots disk.img from the remote IDE service; Linux shows the marker on the VGA screen and serial, and answers uname -r and /proc/interrupts (a growing timer count) typed with the keys API and on the serial console${skipNote}`,
  () => bootAndUse('linux-disk', { disks: [{ slot: 'primary-master', image: path.basename(disk), readOnly: true }], loader: /SYSLINUX 6\.\d+ /, cmdline: `BOOT_IMAGE=/vmlinuz ${KERNEL_CMDLINE}` }),
  BOOT_MS + 180_000,
);

test.skipIf(missing)(
  `soft backend through the gateway: the same from guest.iso on the remote IDE service's ATAPI CD-ROM (isolinux), screen and serial${skipNote}`,
  () => bootAndUse('linux-iso', { disks: [{ slot: 'secondary-master', image: path.basename(iso), cdrom: true }], loader: /ISOLINUX 6\.\d+ /, cmdline: `BOOT_IMAGE=/vmlinuz ${KERNEL_CMDLINE}` }),
  BOOT_MS + 180_000,
);

test.skipIf(missing)(
  `soft backend through the gateway: the same by direct kernel boot (kernel, initrd and command line handed to the vCPU, no BIOS), screen and serial${skipNote}`,
  () => bootAndUse('linux-direct', { kernel: kernelPath(), initrd: initramfsPath(), cmdline: KERNEL_CMDLINE }),
  BOOT_MS + 180_000,
);
