/** A small deterministic generator, so a failure can be reproduced from its seed: pick(n) is in [0, n). */
export function random(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state >>> 8) % n;
  };
}

/** Any register but ESP, so the stack stays where the test expects it. */
export function register(pick: (n: number) => number): number {
  const r = pick(7);
  return r >= 4 ? r + 1 : r;
}
