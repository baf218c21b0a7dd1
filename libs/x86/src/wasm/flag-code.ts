import { CF, OF, PF, SF, ZF } from '../flag-bits.js';
import { FlagOp } from '../lazy-flags.js';
import { FunctionBody, I32, I64, Op, VOID } from './wasm-encoder.js';

// The lazy flags of compiled wasm: the last flag-setting instruction's record lives in
// locals (op, size, affected flags, a saved CF, operands and untruncated result as i64,
// the formulas of lazy-flags.ts), so a condition reads it without leaving wasm. Before
// the region returns or calls out, the record goes to the state area's mailbox and the
// JavaScript side applies it to Cpu.flags (region-runner.ts).

/** Parameters of the generic condition function, in order. */
export const COND_PARAMS = [I32, I32, I32, I32, I32, I32, I32, I64, I64, I64] as const;

/** Flags each condition pair reads (cc >> 1: O, B, E, BE, S, P, L, LE). */
const NEEDS = [OF, CF, ZF, CF | ZF, SF, PF, SF | OF, ZF | SF | OF];

/**
 * cond(cc, valid, op, size, affected, carry, overflow, a, b, res) -> 0/1 from the record
 * (carry/overflow: CF/OF kept aside by INC/DEC and ROL/ROR, -1 when none). Without a record
 * (valid 0), or when the condition needs a flag the record does not define and no saved
 * value stands in for it, Cpu.flags answers (the import testCondition), after the record
 * went to the mailbox; the caller keeps its record (applying it again later changes nothing).
 * `flushRecord` emits the mailbox stores (RegionEmitter.flushFlags' body).
 */
export function conditionFunction(testCondition: number, flushRecord: (f: FunctionBody, record: readonly number[]) => void): FunctionBody {
  const f = new FunctionBody(10);
  const [cc, valid, op, size, affected, carry, overflow, a, b, res] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  // $ask: Cpu.flags answers (after the body's blocks).
  f.op(Op.block, VOID);
  f.get(valid).op(Op.i32Eqz).brIf(0);
  const r32 = f.local(I32);
  const sign = f.local(I32);
  const cf = f.local(I32);
  const zf = f.local(I32);
  const sf = f.local(I32);
  const of = f.local(I32);
  const pf = f.local(I32);
  const a32 = f.local(I32);
  const b32 = f.local(I32);
  const result = f.local(I32);
  f.get(res).op(Op.i32WrapI64).set(r32);
  f.get(a).op(Op.i32WrapI64).set(a32);
  f.get(b).op(Op.i32WrapI64).set(b32);
  f.get(size).i32(3).op(Op.i32Shl).i32(1).op(Op.i32Sub).set(sign);
  // ZF: the result's low `size` bytes are zero (shift the rest out).
  f.get(r32).i32(32).get(size).i32(3).op(Op.i32Shl).op(Op.i32Sub).op(Op.i32Shl).op(Op.i32Eqz).set(zf);
  // A 4-byte size shifts by 0 above: right, since the shift count is taken mod 32.
  f.get(r32).get(sign).op(Op.i32ShrU).i32(1).op(Op.i32And).set(sf);
  f.get(r32).i32(0xff).op(Op.i32And).op(Op.i32Popcnt).i32(1).op(Op.i32And).i32(1).op(Op.i32Xor).set(pf);
  // CF and OF by operation.
  f.i32(0).set(cf).i32(0).set(of);
  f.get(op).i32(FlagOp.Add).op(Op.i32Eq).op(Op.if, VOID);
  {
    // CF: the untruncated sum exceeds the size's maximum.
    f.get(res).i64(1).get(size).i32(3).op(Op.i32Shl).op(Op.i64ExtendI32U).op(Op.i64Shl).i64(1).op(Op.i64Sub).op(Op.i64GtU).set(cf);
    f.get(a32).get(r32).op(Op.i32Xor).get(b32).get(r32).op(Op.i32Xor).op(Op.i32And).get(sign).op(Op.i32ShrU).i32(1).op(Op.i32And).set(of);
  }
  f.op(Op.end);
  f.get(op).i32(FlagOp.Sub).op(Op.i32Eq).op(Op.if, VOID);
  {
    f.get(res).i64(0).op(Op.i64LtS).set(cf);
    f.get(a32).get(b32).op(Op.i32Xor).get(a32).get(r32).op(Op.i32Xor).op(Op.i32And).get(sign).op(Op.i32ShrU).i32(1).op(Op.i32And).set(of);
  }
  f.op(Op.end);
  f.get(op).i32(FlagOp.Shift).op(Op.i32Eq).op(Op.if, VOID);
  {
    f.get(a32).i32(0).op(Op.i32Ne).set(cf);
    f.get(b32).i32(0).op(Op.i32Ne).set(of);
  }
  f.op(Op.end);
  // Flags the record does not define come from the saved CF/OF, or from Cpu.flags.
  const missing = f.local(I32);
  // needs = NEEDS[cc >> 1], as shifts of a packed constant would be unreadable: a small if-chain.
  f.i32(0).set(missing);
  NEEDS.forEach((needs, kind) => {
    f.get(cc).i32(1).op(Op.i32ShrU).i32(kind).op(Op.i32Eq).op(Op.if, VOID).i32(needs).set(missing).op(Op.end);
  });
  f.get(missing).get(affected).i32(-1).op(Op.i32Xor).op(Op.i32And).set(missing);
  f.get(missing).i32(ZF | SF | PF).op(Op.i32And).brIf(0);
  f.get(missing).i32(CF).op(Op.i32And).op(Op.if, VOID);
  f.get(carry).i32(0).op(Op.i32LtS).brIf(1);
  f.get(carry).set(cf);
  f.op(Op.end);
  f.get(missing).i32(OF).op(Op.i32And).op(Op.if, VOID);
  f.get(overflow).i32(0).op(Op.i32LtS).brIf(1);
  f.get(overflow).set(of);
  f.op(Op.end);
  // Nine blocks: the outermost is "done", the eight inside are the cases, innermost first.
  for (let i = 0; i < 9; i++) f.op(Op.block, VOID);
  f.get(cc).i32(1).op(Op.i32ShrU).brTable([0, 1, 2, 3, 4, 5, 6, 7], 7);
  const cases: ((body: FunctionBody) => void)[] = [
    (x) => x.get(of),
    (x) => x.get(cf),
    (x) => x.get(zf),
    (x) => x.get(cf).get(zf).op(Op.i32Or),
    (x) => x.get(sf),
    (x) => x.get(pf),
    (x) => x.get(sf).get(of).op(Op.i32Xor),
    (x) => x.get(zf).get(sf).get(of).op(Op.i32Xor).op(Op.i32Or),
  ];
  cases.forEach((value, k) => {
    f.op(Op.end);
    value(f);
    f.set(result).br(7 - k);
  });
  f.op(Op.end);
  f.get(result).get(cc).i32(1).op(Op.i32And).op(Op.i32Xor).op(Op.return);
  f.op(Op.end); // $ask
  f.get(valid).op(Op.if, VOID);
  flushRecord(f, [op, size, affected, carry, overflow, a, b, res]);
  f.op(Op.end);
  f.get(cc).call(testCondition);
  return f;
}
