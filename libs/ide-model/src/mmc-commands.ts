/**
 * The SCSI / MMC commands an ATAPI CD-ROM answers (SPC-3, MMC-2 / MMC-3 via SFF-8020i),
 * as pure builders of response data. The drive (atapi-cdrom.ts) does the protocol.
 */

export enum ScsiOp {
  TEST_UNIT_READY = 0x00,
  REQUEST_SENSE = 0x03,
  INQUIRY = 0x12,
  START_STOP_UNIT = 0x1b,
  PREVENT_ALLOW_MEDIUM_REMOVAL = 0x1e,
  READ_CAPACITY = 0x25,
  READ_10 = 0x28,
  SEEK_10 = 0x2b,
  READ_TOC = 0x43,
  GET_CONFIGURATION = 0x46,
  GET_EVENT_STATUS_NOTIFICATION = 0x4a,
  MODE_SENSE_10 = 0x5a,
  READ_12 = 0xa8,
  SET_CD_SPEED = 0xbb,
}

/** Sense keys (SPC-3 4.5.6, table 27). */
export enum SenseKey {
  NO_SENSE = 0x0,
  NOT_READY = 0x2,
  MEDIUM_ERROR = 0x3,
  ILLEGAL_REQUEST = 0x5,
  UNIT_ATTENTION = 0x6,
}

/** Additional sense codes used (SPC-3 annex D). */
export enum Asc {
  NONE = 0x00,
  INVALID_COMMAND_OPERATION_CODE = 0x20,
  LBA_OUT_OF_RANGE = 0x21,
  INVALID_FIELD_IN_CDB = 0x24,
  MEDIUM_MAY_HAVE_CHANGED = 0x28,
  SAVING_PARAMETERS_NOT_SUPPORTED = 0x39,
  MEDIUM_NOT_PRESENT = 0x3a,
  MEDIUM_REMOVAL_PREVENTED = 0x53,
  UNRECOVERED_READ_ERROR = 0x11,
}

export interface Sense {
  key: SenseKey;
  asc: number;
  ascq: number;
}

export const NO_SENSE: Sense = { key: SenseKey.NO_SENSE, asc: 0, ascq: 0 };
export const CD_BLOCK_SIZE = 2048;
/** MMC profile 0008h: CD-ROM (MMC-3 5.3.1). */
export const PROFILE_CD_ROM = 0x0008;

export const be16 = (b: Uint8Array, o: number): number => (b[o] << 8) | b[o + 1];
export const be32 = (b: Uint8Array, o: number): number => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;

function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}
function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}
function ascii(b: Uint8Array, o: number, len: number, s: string): void {
  const t = s.padEnd(len, ' ').slice(0, len);
  for (let i = 0; i < len; i++) b[o + i] = t.charCodeAt(i) & 0x7f;
}

/** Fixed-format sense data, 18 bytes (SPC-3 4.5.3). */
export function senseData(s: Sense): Uint8Array {
  const b = new Uint8Array(18);
  b[0] = 0x70; // current error, fixed format
  b[2] = s.key;
  b[7] = 10; // additional sense length
  b[12] = s.asc;
  b[13] = s.ascq;
  return b;
}

/** Standard INQUIRY data, 36 bytes (SPC-3 6.4.2). */
export function inquiryData(vendor: string, product: string, revision: string): Uint8Array {
  const b = new Uint8Array(36);
  b[0] = 0x05; // CD/DVD device
  b[1] = 0x80; // removable medium
  b[2] = 0x00; // ATAPI devices report no SCSI version
  b[3] = 0x21; // ATAPI transport version 2, response data format 1
  b[4] = 36 - 5;
  ascii(b, 8, 8, vendor);
  ascii(b, 16, 16, product);
  ascii(b, 32, 4, revision);
  return b;
}

/** READ CAPACITY data: last LBA and block length (MMC-2 6.1.17). */
export function readCapacityData(blocks: number): Uint8Array {
  const b = new Uint8Array(8);
  put32(b, 0, Math.max(0, blocks - 1));
  put32(b, 4, CD_BLOCK_SIZE);
  return b;
}

/** An address as LBA or as MSF with the 150-frame (2 s) lead-in offset (MMC-2 table 320). */
function putAddress(b: Uint8Array, o: number, lba: number, msf: boolean): void {
  if (!msf) return put32(b, o, lba);
  const f = lba + 150;
  b[o] = 0;
  b[o + 1] = Math.floor(f / (75 * 60)) & 0xff;
  b[o + 2] = Math.floor(f / 75) % 60;
  b[o + 3] = f % 75;
}

/**
 * READ TOC/PMA/ATIP for a single-session data disc with one data track (MMC-2 6.1.28).
 * Format 0 = TOC, 1 = session information. Returns null for a field the disc cannot answer.
 */
export function readTocData(format: number, msf: boolean, startTrack: number, blocks: number): Uint8Array | null {
  const DATA_TRACK = 0x14; // ADR 1, control: data track, copy permitted
  if (format === 0) {
    if (startTrack > 1 && startTrack !== 0xaa) return null;
    const tracks: [number, number][] = [];
    if (startTrack <= 1) tracks.push([1, 0]);
    tracks.push([0xaa, blocks]);
    const b = new Uint8Array(4 + 8 * tracks.length);
    put16(b, 0, b.length - 2);
    b[2] = 1;
    b[3] = 1;
    tracks.forEach(([track, lba], i) => {
      const o = 4 + 8 * i;
      b[o + 1] = DATA_TRACK;
      b[o + 2] = track;
      putAddress(b, o + 4, lba, msf);
    });
    return b;
  }
  if (format === 1) {
    const b = new Uint8Array(12);
    put16(b, 0, 10);
    b[2] = 1;
    b[3] = 1;
    b[5] = DATA_TRACK;
    b[6] = 1;
    putAddress(b, 8, 0, msf);
    return b;
  }
  return null;
}

/** MODE SENSE(10) pages: 01h read error recovery, 2Ah capabilities; 3Fh all (MMC-2 5.5). */
export function modeSenseData(page: number, mediumPresent: boolean, locked: boolean): Uint8Array | null {
  const pages: Uint8Array[] = [];
  if (page === 0x01 || page === 0x3f) pages.push(Uint8Array.of(0x01, 0x06, 0x00, 0x05, 0, 0, 0, 0));
  if (page === 0x2a || page === 0x3f) {
    const p = new Uint8Array(20);
    p[0] = 0x2a;
    p[1] = 0x12;
    p[4] = 0x71; // audio play, composite, digital ports, multi-session
    p[5] = 0x00;
    p[6] = 0x29 | (locked ? 0x02 : 0); // tray loading, eject, lock supported, lock state
    put16(p, 8, 7056); // max read speed, kB/s (40x)
    put16(p, 10, 256); // volume levels
    put16(p, 12, 512); // buffer size, KiB
    put16(p, 14, 7056); // current read speed
    pages.push(p);
  }
  if (pages.length === 0) return null;
  const len = 8 + pages.reduce((n, p) => n + p.length, 0);
  const b = new Uint8Array(len);
  put16(b, 0, len - 2);
  b[2] = mediumPresent ? 0x01 : 0x70; // 120 mm CD-ROM data / door closed, no disc
  let o = 8;
  for (const p of pages) {
    b.set(p, o);
    o += p.length;
  }
  return b;
}

/** GET CONFIGURATION (MMC-3 6.6): profile list, core, removable medium, random readable. */
export function getConfigurationData(rt: number, startFeature: number, mediumPresent: boolean): Uint8Array {
  const cur = mediumPresent ? 1 : 0;
  const features: [number, Uint8Array][] = [
    [0x0000, Uint8Array.of(0x00, 0x00, 0x03, 4, (PROFILE_CD_ROM >> 8) & 0xff, PROFILE_CD_ROM & 0xff, cur, 0)],
    [0x0001, Uint8Array.of(0x00, 0x01, 0x0b, 8, 0, 0, 0, 2, 0, 0, 0, 0)], // ATAPI physical interface
    [0x0003, Uint8Array.of(0x00, 0x03, 0x03, 4, 0x29, 0, 0, 0)], // tray, eject, lock
    [0x0010, Uint8Array.of(0x00, 0x10, 0x00 | cur, 8, 0, 0, 0x08, 0x00, 0, 1, 0, 0)], // 2048-byte blocks
  ];
  const chosen = features.filter(([code, f]) => {
    if (rt === 2) return code === startFeature;
    if (code < startFeature) return false;
    return rt === 1 ? (f[2] & 1) === 1 : true;
  });
  const len = 8 + chosen.reduce((n, [, f]) => n + f.length, 0);
  const b = new Uint8Array(len);
  put32(b, 0, len - 4);
  put16(b, 6, mediumPresent ? PROFILE_CD_ROM : 0);
  let o = 8;
  for (const [, f] of chosen) {
    b.set(f, o);
    o += f.length;
  }
  return b;
}

/** GET EVENT STATUS NOTIFICATION, polled, media class only (MMC-3 6.7). */
export function eventStatusData(requestedClasses: number, mediumPresent: boolean): Uint8Array {
  const MEDIA_CLASS = 0x10;
  if (!(requestedClasses & MEDIA_CLASS)) {
    return Uint8Array.of(0, 2, 0x80, MEDIA_CLASS); // no event available
  }
  return Uint8Array.of(0, 6, 0x04, MEDIA_CLASS, 0x00, mediumPresent ? 0x02 : 0x00, 0, 0);
}
