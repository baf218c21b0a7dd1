/** EFLAGS bits (Intel SDM vol. 1, section 3.4.3). */
export const CF = 1 << 0;
export const RESERVED_1 = 1 << 1;
export const PF = 1 << 2;
export const AF = 1 << 4;
export const ZF = 1 << 6;
export const SF = 1 << 7;
export const TF = 1 << 8;
export const IF = 1 << 9;
export const DF = 1 << 10;
export const OF = 1 << 11;
export const IOPL = 3 << 12;
export const NT = 1 << 14;
export const RF = 1 << 16;
export const VM = 1 << 17;
export const AC = 1 << 18;
export const ID = 1 << 21;

/** The six status flags produced by arithmetic. */
export const ARITH_FLAGS = CF | PF | AF | ZF | SF | OF;

/** PARITY[b] is PF for a result whose low byte is b (set when the count of one bits is even). */
export const PARITY: Uint8Array = (() => {
  const table = new Uint8Array(256);
  for (let i = 0; i < 256; i++) {
    let ones = 0;
    for (let b = i; b !== 0; b >>= 1) ones += b & 1;
    table[i] = (ones & 1) === 0 ? PF : 0;
  }
  return table;
})();
