/**
 * What the CPU thread of a KVM VM publishes to the main thread, in a SharedArrayBuffer:
 * the VM fd (for KVM_IRQ_LINE from the main thread), the kernel thread id of the CPU
 * thread (for kicks), and the process-wide addresses of guest RAM and of a mapping of
 * kvm_run (for device DMA and immediate_exit). The CPU thread owns every KVM resource and
 * frees them only after the main thread has released its views (`released`).
 */
const READY = 0;
const RELEASED = 1;
const TID = 2;
const VM_FD = 3;
const RAM_ADDRESS = 2; // BigInt64 slots
const RAM_SIZE = 3;
const RUN_ADDRESS = 4;
const RUN_SIZE = 5;

export interface KvmPublished {
  tid: number;
  vmFd: number;
  ramAddress: bigint;
  ramSize: number;
  runAddress: bigint;
  runSize: number;
}

export class KvmHandshake {
  private readonly i32: Int32Array;
  private readonly i64: BigInt64Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.i32 = new Int32Array(buffer);
    this.i64 = new BigInt64Array(buffer);
  }

  static create(): KvmHandshake {
    return new KvmHandshake(new SharedArrayBuffer(48));
  }

  /** CPU thread: everything is set up; the main thread may use it until it releases. */
  publish(p: KvmPublished): void {
    this.i32[TID] = p.tid;
    this.i32[VM_FD] = p.vmFd;
    this.i64[RAM_ADDRESS] = p.ramAddress;
    this.i64[RAM_SIZE] = BigInt(p.ramSize);
    this.i64[RUN_ADDRESS] = p.runAddress;
    this.i64[RUN_SIZE] = BigInt(p.runSize);
    Atomics.store(this.i32, READY, 1);
    Atomics.notify(this.i32, READY);
  }

  /** Main thread: resolves with what was published (null if released first). */
  async published(): Promise<KvmPublished | null> {
    while (Atomics.load(this.i32, READY) === 0 && !this.isReleased) {
      const w = Atomics.waitAsync(this.i32, READY, 0, 1000);
      if (w.async) await w.value;
    }
    if (this.isReleased) return null;
    return {
      tid: this.i32[TID],
      vmFd: this.i32[VM_FD],
      ramAddress: this.i64[RAM_ADDRESS],
      ramSize: Number(this.i64[RAM_SIZE]),
      runAddress: this.i64[RUN_ADDRESS],
      runSize: Number(this.i64[RUN_SIZE]),
    };
  }

  get isReleased(): boolean {
    return Atomics.load(this.i32, RELEASED) === 1;
  }

  /** Main thread: it will not touch the VM fd, RAM or kvm_run again. */
  release(): void {
    Atomics.store(this.i32, RELEASED, 1);
    Atomics.notify(this.i32, RELEASED);
    Atomics.notify(this.i32, READY);
  }

  /** CPU thread: blocks until the main thread has released (checking every second). */
  waitForRelease(): void {
    while (Atomics.load(this.i32, RELEASED) === 0) Atomics.wait(this.i32, RELEASED, 0, 1000);
  }
}
