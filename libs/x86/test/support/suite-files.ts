import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import type { SingleStepCase } from './single-step-case.js';

interface OpcodeInfo {
  status?: string;
  'flags-mask'?: number;
  reg?: Record<string, OpcodeInfo>;
}

interface Metadata {
  opcodes: Record<string, OpcodeInfo>;
}

/** What metadata.json says about one opcode, or one ModRM reg value of a group opcode. */
export interface OpcodeClass {
  /** "00", "80.3", ... */
  readonly id: string;
  readonly status: string;
  readonly flagsMask: number;
  /** Normal and alias opcodes are documented behaviour; the rest is reported only. */
  readonly documented: boolean;
}

/** One XX.json.gz or XX.N.json.gz file. */
export interface SuiteFile {
  readonly path: string;
  /** Classifies a case; files such as 8F.json.gz mix several reg values with different statuses. */
  classify(testCase: SingleStepCase): OpcodeClass;
}

const DOCUMENTED = new Set(['normal', 'alias']);
/** Prefix bytes that may precede the opcode in a case's bytes. */
const PREFIXES = new Set([0x26, 0x2e, 0x36, 0x3e, 0xf0, 0xf1, 0xf2, 0xf3]);

export function suitePresent(dir: string): boolean {
  return existsSync(join(dir, 'metadata.json'));
}

function opcodeClass(id: string, info: OpcodeInfo | undefined): OpcodeClass {
  const status = info?.status ?? 'unknown';
  return { id, status, flagsMask: info?.['flags-mask'] ?? 0xffff, documented: DOCUMENTED.has(status) };
}

/** The ModRM reg field of a case: the byte after the opcode, prefixes skipped. */
function modrmReg(bytes: number[]): number {
  let i = 0;
  while (PREFIXES.has(bytes[i])) i++;
  return (bytes[i + 1] >>> 3) & 7;
}

/** Lists the suite's test files in opcode order. */
export function listSuiteFiles(dir: string): SuiteFile[] {
  const metadata = JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8')) as Metadata;
  return readdirSync(dir)
    .filter((name) => /^[0-9A-F]{2}(\.\d)?\.json\.gz$/.test(name))
    .sort()
    .map((name): SuiteFile => {
      const id = name.replace('.json.gz', '');
      const [opcode, reg] = id.split('.');
      const info = metadata.opcodes[opcode];
      const path = join(dir, name);
      if (reg !== undefined) {
        const fixed = opcodeClass(id, info?.reg?.[reg]);
        return { path, classify: () => fixed };
      }
      if (info?.reg !== undefined) {
        const perReg = Array.from({ length: 8 }, (_, r) => opcodeClass(`${opcode}.${r}`, info.reg?.[String(r)]));
        return { path, classify: (testCase) => perReg[modrmReg(testCase.bytes)] };
      }
      const fixed = opcodeClass(id, info);
      return { path, classify: () => fixed };
    });
}

/** Reads one file's cases; only one file is held in memory at a time. */
export function readCases(file: SuiteFile): SingleStepCase[] {
  return JSON.parse(gunzipSync(readFileSync(file.path)).toString('utf8')) as SingleStepCase[];
}
