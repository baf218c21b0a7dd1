// Reads the entries of a newc ("070701") cpio archive, enough to see what a guest's
// initramfs holds.
export interface CpioEntry {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  data: Buffer;
}

const HEADER = 110;
const field = (buf: Buffer, at: number, index: number): number =>
  parseInt(buf.toString('latin1', at + 6 + index * 8, at + 14 + index * 8), 16);
const align4 = (n: number): number => (n + 3) & ~3;

export function readNewc(archive: Buffer): CpioEntry[] {
  const entries: CpioEntry[] = [];
  let at = 0;
  for (;;) {
    const magic = archive.toString('latin1', at, at + 6);
    if (magic !== '070701') throw new Error(`no newc header at byte ${at} (found ${JSON.stringify(magic)})`);
    const mode = field(archive, at, 1);
    const uid = field(archive, at, 2);
    const gid = field(archive, at, 3);
    const size = field(archive, at, 6);
    const nameSize = field(archive, at, 11);
    const name = archive.toString('latin1', at + HEADER, at + HEADER + nameSize - 1);
    const dataAt = align4(at + HEADER + nameSize);
    if (name === 'TRAILER!!!') return entries;
    entries.push({ name, mode, uid, gid, data: archive.subarray(dataAt, dataAt + size) });
    at = align4(dataAt + size);
  }
}
