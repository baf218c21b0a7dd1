/**
 * Gives number fields that come to hold values of 2^31 and more (linear addresses, EIPs,
 * unsigned operands, counts past 2 G) V8's wide form at once. V8 keeps a field whose
 * first value was a small integer in a narrower form; the first big number changes the
 * layout of every object of that shape, and every optimized function that read one is
 * thrown away and compiled again ("wrong map" deoptimizations). Linux's boot did that in
 * waves right at kernel start (LGDT, CR0.PG, the first page fault, the first kernel EIPs).
 * Holding a big number once, when the object is made, avoids it. The fields keep their values.
 */
export function widenNumberFields(object: object, fields: readonly string[]): void {
  const record = object as Record<string, number>;
  for (const field of fields) {
    const value = record[field];
    record[field] = 2 ** 32;
    record[field] = value;
  }
}
