/**
 * Just enough of the WebAssembly binary format (core spec 1.0, section 5) to
 * build the modules the wasm JIT makes: one function type list, imported
 * memory and functions, functions, exports.
 */

export const I32 = 0x7f;
export const I64 = 0x7e;
export const F64 = 0x7c;
export type ValueType = typeof I32 | typeof I64 | typeof F64;

/** Opcodes used by the JIT (core spec 5.4). */
export const Op = {
  unreachable: 0x00, block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b,
  br: 0x0c, brIf: 0x0d, brTable: 0x0e, return: 0x0f, call: 0x10, drop: 0x1a, select: 0x1b,
  localGet: 0x20, localSet: 0x21, localTee: 0x22,
  i32Load: 0x28, i64Load: 0x29, f64Load: 0x2b, i32Load8S: 0x2c, i32Load8U: 0x2d, i32Load16S: 0x2e, i32Load16U: 0x2f,
  i32Store: 0x36, i64Store: 0x37, f64Store: 0x39, i32Store8: 0x3a, i32Store16: 0x3b,
  i32Const: 0x41, i64Const: 0x42,
  i32Eqz: 0x45, i32Eq: 0x46, i32Ne: 0x47, i32LtS: 0x48, i32LtU: 0x49, i32GtS: 0x4a, i32GtU: 0x4b,
  i32LeS: 0x4c, i32LeU: 0x4d, i32GeS: 0x4e, i32GeU: 0x4f,
  i64Eqz: 0x50, i64Eq: 0x51, i64Ne: 0x52, i64LtS: 0x53, i64LtU: 0x54, i64GtS: 0x55, i64GtU: 0x56, i64LeS: 0x57, i64LeU: 0x58, i64GeS: 0x59, i64GeU: 0x5a,
  i32Popcnt: 0x69, i32Add: 0x6a, i32Sub: 0x6b, i32Mul: 0x6c, i32And: 0x71, i32Or: 0x72, i32Xor: 0x73,
  i32Shl: 0x74, i32ShrS: 0x75, i32ShrU: 0x76, i32Rotl: 0x77, i32Rotr: 0x78,
  i64Add: 0x7c, i64Sub: 0x7d, i64Mul: 0x7e, i64DivS: 0x7f, i64DivU: 0x80, i64RemS: 0x81, i64RemU: 0x82, i64And: 0x83, i64Or: 0x84, i64Xor: 0x85, i64Shl: 0x86, i64ShrS: 0x87, i64ShrU: 0x88,
  i32WrapI64: 0xa7, i64TruncF64S: 0xb0, i64ExtendI32S: 0xac, i64ExtendI32U: 0xad, f64ConvertI64S: 0xb9,
  i32Extend8S: 0xc0, i32Extend16S: 0xc1,
} as const;

/** Block type of a structured instruction: no result, or one value. */
export const VOID = 0x40;

export function unsignedLeb(value: number, out: number[]): void {
  let n = value >>> 0;
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
}

export function signedLeb(value: number | bigint, out: number[]): void {
  // i32 constants (nearly all of them) without BigInt: >> keeps the sign.
  if (typeof value === 'number' && value === (value | 0)) {
    let v = value;
    for (;;) {
      const byte = v & 0x7f;
      v >>= 7;
      if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
        out.push(byte);
        return;
      }
      out.push(byte | 0x80);
    }
  }
  let n = BigInt(value);
  for (;;) {
    const byte = Number(n & 0x7fn);
    n >>= 7n;
    if ((n === 0n && (byte & 0x40) === 0) || (n === -1n && (byte & 0x40) !== 0)) {
      out.push(byte);
      return;
    }
    out.push(byte | 0x80);
  }
}

/** One function's code: locals beyond the parameters, and its instructions. */
export class FunctionBody {
  /** The instructions so far (the region compiler swaps in a fresh array to emit a member apart). */
  code: number[] = [];
  /** Finished parts before `code` (appendPart). */
  private readonly parts: number[][] = [];
  private readonly localTypes: ValueType[] = [];

  constructor(readonly paramCount: number) {}

  /** Declares a local; returns its index. */
  local(type: ValueType): number {
    this.localTypes.push(type);
    return this.paramCount + this.localTypes.length - 1;
  }

  op(...bytes: number[]): this {
    for (const b of bytes) this.code.push(b);
    return this;
  }
  /** An opcode followed by one unsigned index (a local, a function, a branch depth). */
  private indexed(opcode: number, index: number): this {
    this.code.push(opcode);
    unsignedLeb(index, this.code);
    return this;
  }
  get(index: number): this {
    return this.indexed(Op.localGet, index);
  }
  set(index: number): this {
    return this.indexed(Op.localSet, index);
  }
  tee(index: number): this {
    return this.indexed(Op.localTee, index);
  }
  i32(value: number): this {
    this.code.push(Op.i32Const);
    signedLeb(value | 0, this.code);
    return this;
  }
  i64(value: number | bigint): this {
    this.code.push(Op.i64Const);
    signedLeb(value, this.code);
    return this;
  }
  /** A load or store with a constant offset (alignment hint 0: guest accesses are often unaligned). */
  mem(opcode: number, offset = 0): this {
    this.code.push(opcode, 0);
    unsignedLeb(offset, this.code);
    return this;
  }
  /** call_indirect through table 0 with function type `type`. */
  callIndirect(type: number): this {
    this.code.push(0x11);
    unsignedLeb(type, this.code);
    this.code.push(0x00);
    return this;
  }
  /** memory.copy (bulk memory): dst, src, length on the stack. */
  memoryCopy(): this {
    this.code.push(0xfc, 0x0a, 0x00, 0x00);
    return this;
  }
  /** memory.fill (bulk memory): dst, byte, length on the stack. */
  memoryFill(): this {
    this.code.push(0xfc, 0x0b, 0x00);
    return this;
  }
  /** return_call_indirect (wasm tail calls) through table 0. */
  returnCallIndirect(type: number): this {
    this.code.push(0x13);
    unsignedLeb(type, this.code);
    this.code.push(0x00);
    return this;
  }
  call(index: number): this {
    return this.indexed(Op.call, index);
  }
  br(depth: number): this {
    return this.indexed(Op.br, depth);
  }
  brIf(depth: number): this {
    return this.indexed(Op.brIf, depth);
  }
  brTable(depths: number[], fallback: number): this {
    this.code.push(Op.brTable);
    unsignedLeb(depths.length, this.code);
    for (const d of depths) unsignedLeb(d, this.code);
    unsignedLeb(fallback, this.code);
    return this;
  }

  /**
   * Ends the current part: `part` follows it, emission goes on in a fresh array (the
   * region compiler emits each member apart and appends it; nothing is copied).
   */
  appendPart(part: number[]): void {
    this.parts.push(this.code, part);
    this.code = [];
  }

  /** The function's entry in the code section: its size, locals and instructions, as parts in order. */
  encode(): number[][] {
    // Locals grouped in runs of one type.
    const runs: [number, ValueType][] = [];
    for (const t of this.localTypes) {
      const last = runs[runs.length - 1];
      if (last !== undefined && last[1] === t) last[0]++;
      else runs.push([1, t]);
    }
    const locals: number[] = [];
    unsignedLeb(runs.length, locals);
    for (const [count, type] of runs) {
      unsignedLeb(count, locals);
      locals.push(type);
    }
    const parts = [locals, ...this.parts, this.code, [Op.end]];
    const size: number[] = [];
    unsignedLeb(totalLength(parts), size);
    return [size, ...parts];
  }
}

function totalLength(parts: number[][]): number {
  let n = 0;
  for (const p of parts) n += p.length;
  return n;
}

export interface FunctionType {
  params: ValueType[];
  results: ValueType[];
}

export interface ModuleSpec {
  types: FunctionType[];
  /** Imported functions (module "i"), by name and type index; they take the first function indices. */
  imports: { name: string; type: number }[];
  /** A shared memory imported as "i"."memory" with this many pages (0: none). */
  memoryPages: number;
  /** A function table imported as "i"."table" (call_indirect's table 0). */
  table?: boolean;
  functions: { type: number; body: FunctionBody; export?: string }[];
}

/** Appends a section (id, size, content parts) to the module's parts. */
function section(id: number, content: number[][], out: number[][]): void {
  const head = [id];
  unsignedLeb(totalLength(content), head);
  out.push(head, ...content);
}

function name(text: string, out: number[]): void {
  unsignedLeb(text.length, out);
  for (let i = 0; i < text.length; i++) out.push(text.charCodeAt(i));
}

export function encodeModule(spec: ModuleSpec): Uint8Array {
  const out: number[][] = [[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]];
  const types: number[] = [];
  unsignedLeb(spec.types.length, types);
  for (const t of spec.types) {
    types.push(0x60);
    unsignedLeb(t.params.length, types);
    types.push(...t.params);
    unsignedLeb(t.results.length, types);
    types.push(...t.results);
  }
  section(1, [types], out);
  const imports: number[] = [];
  unsignedLeb(spec.imports.length + (spec.memoryPages > 0 ? 1 : 0) + (spec.table === true ? 1 : 0), imports);
  if (spec.memoryPages > 0) {
    name('i', imports);
    name('memory', imports);
    imports.push(0x02, 0x03); // memory, shared with a maximum
    unsignedLeb(spec.memoryPages, imports);
    unsignedLeb(spec.memoryPages, imports);
  }
  if (spec.table === true) {
    name('i', imports);
    name('table', imports);
    imports.push(0x01, 0x70, 0x00, 0x00); // table of funcref, at least 0 entries
  }
  for (const imp of spec.imports) {
    name('i', imports);
    name(imp.name, imports);
    imports.push(0x00);
    unsignedLeb(imp.type, imports);
  }
  section(2, [imports], out);
  const functions: number[] = [];
  unsignedLeb(spec.functions.length, functions);
  for (const f of spec.functions) unsignedLeb(f.type, functions);
  section(3, [functions], out);
  const exported = spec.functions.map((f, i) => ({ name: f.export, index: spec.imports.length + i })).filter((e) => e.name !== undefined);
  const exports: number[] = [];
  unsignedLeb(exported.length, exports);
  for (const e of exported) {
    name(e.name!, exports);
    exports.push(0x00);
    unsignedLeb(e.index, exports);
  }
  section(7, [exports], out);
  const count: number[] = [];
  unsignedLeb(spec.functions.length, count);
  const code: number[][] = [count];
  for (const f of spec.functions) code.push(...f.body.encode());
  section(10, code, out);
  const bytes = new Uint8Array(totalLength(out));
  let at = 0;
  for (const part of out) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}
