// A user at the guest's serial shell: wait for the prompt, type a command line, read what
// came back. Works on the serial output a Vm collects (CR LF line ends, the shell's echo).
import type { Vm } from '../../src/vm.js';

/**
 * busybox sh's prompt for root ("/ # "), at the start of a line; its line editor may follow it
 * with a cursor position query (ESC [6n), and kernel messages may come after it.
 */
export const PROMPT = /(^|\n)[^\n]*[#$] /;

/** Serial output from `from` on, waited for until `done` matches it. */
export function serialSince(vm: Vm, from: number, done: RegExp, timeoutMs: number): Promise<string> {
  const tail = () => vm.serialLog.slice(from);
  if (done.test(tail())) return Promise.resolve(tail());
  return new Promise((resolve, reject) => {
    const onData = () => {
      if (!done.test(tail())) return;
      cleanup();
      resolve(tail());
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`serial output did not show ${String(done)} within ${timeoutMs} ms (state ${vm.state}; got ${JSON.stringify(tail().slice(-600))})`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      vm.off('serial', onData);
    };
    vm.on('serial', onData);
  });
}

/**
 * Types `line` on the serial console once the shell shows its prompt, and returns the output
 * from there on when it shows `done` followed by the next prompt.
 */
export async function typeAndWait(vm: Vm, line: string, done: RegExp, timeoutMs: number): Promise<string> {
  await serialSince(vm, Math.max(0, vm.serialLog.lastIndexOf('QUASIVM-GUEST-READY')), PROMPT, timeoutMs);
  const from = vm.serialLog.length;
  vm.sendSerial(new TextEncoder().encode(line));
  const untilPrompt = new RegExp(`(${done.source})[\\s\\S]*\\n[^\\n]*[#$] `, done.flags.replace('g', ''));
  return serialSince(vm, from, untilPrompt, timeoutMs);
}

/** The count of interrupt `irq` on CPU0 in a /proc/interrupts listing (the last one in `text`). */
export function interruptCount(text: string, irq: number): number {
  const lines = [...text.matchAll(new RegExp(`^\\s*${irq}:\\s+(\\d+)\\s`, 'gm'))];
  if (!lines.length) throw new Error(`no IRQ ${irq} line in ${JSON.stringify(text.slice(-800))}`);
  return Number(lines[lines.length - 1][1]);
}
