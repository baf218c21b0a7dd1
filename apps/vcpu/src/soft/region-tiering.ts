import { setFlagsFromString } from 'node:v8';

/**
 * How V8 compiles the soft backend's wasm regions while a VM with a region compile thread
 * runs. V8's defaults suit ordinary wasm, not a JIT's modules:
 * - lazy compilation plus Liftoff first: a region is compiled on the CPU thread at its first
 *   call, runs as Liftoff code (2-3x slower) until its budget tiers it up on a background
 *   thread, and every rebuild of a page (new hot blocks) starts over in Liftoff. Nearly every
 *   region was tiered up anyway (424 of 444 in a Linux boot);
 * - huge functions get the mid-tier register allocator, which keeps values in stack slots:
 *   a page region of ~600+ guest instructions (the XZ decompressor's) crossed that limit.
 * With these off, the compile thread builds each region with TurboFan before the CPU
 * installs it (the CPU runs the page's blocks as closures meanwhile). Measured here (Linux
 * direct boot, paired runs): 13.5-14.8 -> 12.4-13.1 s; bare decompressor 250 M-instruction
 * steps 0.42 -> 0.33 s.
 *
 * V8 flags are per process: they are set while at least one such VM runs in this process and
 * put back to V8's defaults after the last one stops (so other wasm in the process, such as
 * v86 in bench/boot.ts, runs with the defaults when no VM does).
 */
const FLAGS = ['wasm-lazy-compilation', 'liftoff', 'turbo-use-mid-tier-regalloc-for-huge-functions'] as const;

let holders = 0;

/** Switches region compiles to TurboFan at once; the returned function (idempotent) undoes it for this holder. */
export function holdRegionTiering(): () => void {
  if (holders++ === 0) for (const flag of FLAGS) setFlagsFromString(`--no-${flag}`);
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    if (--holders === 0) for (const flag of FLAGS) setFlagsFromString(`--${flag}`);
  };
}
