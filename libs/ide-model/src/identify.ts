/**
 * Helpers for the 512-byte IDENTIFY DEVICE / IDENTIFY PACKET DEVICE data
 * (ATA-6 8.15 and 8.16, tables 11 and 12).
 */
export class IdentifyData {
  readonly words = new Uint16Array(256);

  set(word: number, value: number): this {
    this.words[word] = value & 0xffff;
    return this;
  }

  /** A 32-bit value in two words, low word first (e.g. words 60-61). */
  set32(word: number, value: number): this {
    this.words[word] = value & 0xffff;
    this.words[word + 1] = (value >>> 16) & 0xffff;
    return this;
  }

  /** A 64-bit value in four words, least significant first (words 100-103). */
  set64(word: number, value: number): this {
    let v = BigInt(value);
    for (let i = 0; i < 4; i++) {
      this.words[word + i] = Number(v & 0xffffn);
      v >>= 16n;
    }
    return this;
  }

  /**
   * An ATA string (ATA-6 3.2.9): padded with spaces to `words * 2` characters, and
   * each word holds two characters with the first one in bits 15:8.
   */
  setString(word: number, words: number, text: string): this {
    const s = text.replace(/[^\x20-\x7e]/g, ' ').padEnd(words * 2, ' ').slice(0, words * 2);
    for (let i = 0; i < words; i++) this.words[word + i] = (s.charCodeAt(2 * i) << 8) | s.charCodeAt(2 * i + 1);
    return this;
  }

  /**
   * Little-endian bytes, with word 255 the integrity word (ATA-6 8.15.64): signature
   * A5h in bits 7:0 and a checksum in bits 15:8 making all 512 bytes sum to 0 mod 256.
   */
  toBytes(withChecksum: boolean): Uint8Array {
    const out = new Uint8Array(512);
    if (withChecksum) this.words[255] = 0x00a5;
    for (let i = 0; i < 256; i++) {
      out[2 * i] = this.words[i] & 0xff;
      out[2 * i + 1] = this.words[i] >>> 8;
    }
    if (withChecksum) {
      let sum = 0;
      for (let i = 0; i < 511; i++) sum += out[i];
      out[511] = (256 - (sum & 0xff)) & 0xff;
    }
    return out;
  }
}
