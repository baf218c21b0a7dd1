import { CpuFault, Vector } from '../cpu-fault.js';
import { TLB_GLOBAL, TLB_SUPERVISOR_WRITE, TLB_USER_READ, TLB_USER_WRITE, TLB_VALID } from './tlb.js';

/** Page-directory and page-table entry bits (Intel SDM vol. 3, section 4.3, tables 4-5 to 4-6). */
export const PTE_PRESENT = 1 << 0;
export const PTE_WRITABLE = 1 << 1;
export const PTE_USER = 1 << 2;
export const PTE_ACCESSED = 1 << 5;
export const PTE_DIRTY = 1 << 6;
/** In a PDE with CR4.PSE: maps a 4 MiB page. */
export const PDE_LARGE = 1 << 7;
export const PTE_GLOBAL = 1 << 8;

/** #PF error code bits (section 4.7). */
export const PF_PROTECTION = 1 << 0;
export const PF_WRITE = 1 << 1;
export const PF_USER = 1 << 2;

const CR4_PSE = 1 << 4;
const CR4_PAE = 1 << 5;
const CR4_PGE = 1 << 7;
const CR0_WP = 1 << 16;

/** Physical memory as the page walker sees it (page tables live in RAM). */
export interface PhysicalMemory {
  readPhysical32(address: number): number;
  writePhysical32(address: number, value: number): void;
}

/**
 * The page walk. 32-bit paging (CR4.PAE clear): CR3 -> page directory ->
 * page table, or a 4 MiB page straight from the directory when CR4.PSE is
 * set. Checks U/S and R/W (R/W binds supervisor writes only with CR0.WP),
 * sets accessed and dirty bits, and returns the TLB entry for the page;
 * a refused access throws #PF with its error code and the linear address.
 */
export function walkPage(memory: PhysicalMemory, cr0: number, cr3: number, cr4: number, linear: number, write: boolean, user: boolean): number {
  if ((cr4 & CR4_PAE) !== 0) return walkPagePae(memory, cr0, cr3, cr4, linear, write, user);
  const pdeAddress = ((cr3 & 0xfffff000) | ((linear >>> 22) << 2)) >>> 0;
  const pde = memory.readPhysical32(pdeAddress);
  if ((pde & PTE_PRESENT) === 0) throw pageFault(linear, write, user, false);
  const large = (pde & PDE_LARGE) !== 0 && (cr4 & CR4_PSE) !== 0;
  let entry: number;
  let entryAddress: number;
  let allowed: number;
  let frame: number;
  if (large) {
    entry = pde;
    entryAddress = pdeAddress;
    allowed = pde;
    frame = ((pde & 0xffc00000) | (linear & 0x003ff000)) >>> 0;
  } else {
    entryAddress = ((pde & 0xfffff000) | (((linear >>> 12) & 0x3ff) << 2)) >>> 0;
    entry = memory.readPhysical32(entryAddress);
    if ((entry & PTE_PRESENT) === 0) throw pageFault(linear, write, user, false);
    allowed = pde & entry; // U/S and R/W must be granted at both levels
    frame = (entry & 0xfffff000) >>> 0;
  }
  return finishWalk(memory, cr0, cr4, linear, write, user, { pde, pdeAddress, entry, entryAddress, allowed, frame, large });
}

/** What a walk found: the directory entry, the final entry (PTE, or the PDE of a large page) and the frame. */
interface WalkResult {
  pde: number;
  pdeAddress: number;
  entry: number;
  entryAddress: number;
  /** U/S and R/W as granted by every level together. */
  allowed: number;
  frame: number;
  large: boolean;
}

/**
 * PAE paging (section 4.4): CR3 -> 4 PDPTEs -> page directory of 512 8-byte
 * entries -> page table (or a 2 MiB page with PS). Only the low dword of each
 * entry is used: physical addresses stay below 4 GiB (no NX: EFER is not
 * implemented). PDPTEs are read at walk time instead of being cached at CR3 load.
 */
function walkPagePae(memory: PhysicalMemory, cr0: number, cr3: number, cr4: number, linear: number, write: boolean, user: boolean): number {
  const pdpte = memory.readPhysical32(((cr3 & 0xffffffe0) + (linear >>> 30) * 8) >>> 0);
  if ((pdpte & PTE_PRESENT) === 0) throw pageFault(linear, write, user, false);
  const pdeAddress = ((pdpte & 0xfffff000) + ((linear >>> 21) & 0x1ff) * 8) >>> 0;
  const pde = memory.readPhysical32(pdeAddress);
  if ((pde & PTE_PRESENT) === 0) throw pageFault(linear, write, user, false);
  if ((pde & PDE_LARGE) !== 0) {
    const frame = ((pde & 0xffe00000) | (linear & 0x001ff000)) >>> 0;
    return finishWalk(memory, cr0, cr4, linear, write, user, { pde, pdeAddress, entry: pde, entryAddress: pdeAddress, allowed: pde, frame, large: true });
  }
  const entryAddress = ((pde & 0xfffff000) + ((linear >>> 12) & 0x1ff) * 8) >>> 0;
  const entry = memory.readPhysical32(entryAddress);
  if ((entry & PTE_PRESENT) === 0) throw pageFault(linear, write, user, false);
  return finishWalk(memory, cr0, cr4, linear, write, user, { pde, pdeAddress, entry, entryAddress, allowed: pde & entry, frame: (entry & 0xfffff000) >>> 0, large: false });
}

/** Permission checks, accessed/dirty updates and the TLB entry, shared by both walks. */
function finishWalk(memory: PhysicalMemory, cr0: number, cr4: number, linear: number, write: boolean, user: boolean, walk: WalkResult): number {
  const { pde, pdeAddress, entry, entryAddress, allowed, frame, large } = walk;
  const userOk = (allowed & PTE_USER) !== 0;
  const writableOk = (allowed & PTE_WRITABLE) !== 0;
  if (user && !userOk) throw pageFault(linear, write, user, true);
  if (write && !writableOk && (user || (cr0 & CR0_WP) !== 0)) throw pageFault(linear, write, user, true);

  if (!large && (pde & PTE_ACCESSED) === 0) memory.writePhysical32(pdeAddress, (pde | PTE_ACCESSED) >>> 0);
  const updated = (entry | PTE_ACCESSED | (write ? PTE_DIRTY : 0)) >>> 0;
  if (updated !== entry >>> 0) memory.writePhysical32(entryAddress, updated);

  let tlbEntry = frame | TLB_VALID;
  const dirty = (updated & PTE_DIRTY) !== 0;
  if (dirty && (writableOk || (cr0 & CR0_WP) === 0)) tlbEntry |= TLB_SUPERVISOR_WRITE;
  if (userOk) tlbEntry |= TLB_USER_READ;
  if (userOk && writableOk && dirty) tlbEntry |= TLB_USER_WRITE;
  if ((entry & PTE_GLOBAL) !== 0 && (cr4 & CR4_PGE) !== 0) tlbEntry |= TLB_GLOBAL;
  return tlbEntry;
}

function pageFault(linear: number, write: boolean, user: boolean, present: boolean): CpuFault {
  const code = (present ? PF_PROTECTION : 0) | (write ? PF_WRITE : 0) | (user ? PF_USER : 0);
  return new CpuFault(Vector.PageFault, code, linear >>> 0);
}
