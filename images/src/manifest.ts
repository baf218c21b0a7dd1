// What a build was made from and what it produced. The images are rebuilt only when an
// input changed (package versions, tool versions, /init, this build's code) or an output
// is missing or altered.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImagePaths } from './paths.js';

export interface BuildInputs {
  kernelPackage: string;
  busyboxPackage: string;
  memtestPackage: string;
  tools: string[];
  cmdline: string;
  /** sha256 of guest/init. */
  init: string;
  /** sha256 of the build's own code (src/, guest/, ensure-image-tools.sh). */
  code: string;
}

export interface OutputRecord {
  path: string;
  size: number;
  sha256: string;
}

export interface Manifest {
  inputs: BuildInputs;
  /** The package versions above were read from apt lists with this fingerprint. */
  aptLists: string;
  outputs: Record<keyof ImagePaths, OutputRecord>;
  builtAt: string;
  buildSeconds: number;
}

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export const fileSha256 = (path: string): string => sha256(readFileSync(path));

/** One hash over every file under the given directories and files, by relative name. */
export function treeSha256(paths: string[], base: string): string {
  const hash = createHash('sha256');
  const visit = (path: string): void => {
    const entries = safeReaddir(path);
    if (entries) {
      for (const name of entries.sort()) visit(join(path, name));
      return;
    }
    hash.update(`${path.slice(base.length)}\0`);
    hash.update(readFileSync(path));
  };
  for (const path of paths) visit(path);
  return hash.digest('hex');
}

function safeReaddir(path: string): string[] | undefined {
  try {
    return readdirSync(path);
  } catch {
    return undefined;
  }
}

export function readManifest(path: string): Manifest | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

export function writeManifest(path: string, manifest: Manifest): void {
  writeFileSync(path, `${JSON.stringify(manifest, null, 2)}\n`);
}

export function recordOutput(path: string): OutputRecord {
  const data = readFileSync(path);
  return { path, size: data.length, sha256: sha256(data) };
}

/** Why the manifest does not describe the wanted build, or undefined when it does. */
export function staleReason(manifest: Manifest | undefined, inputs: BuildInputs, paths: ImagePaths): string | undefined {
  if (!manifest) return 'no previous build';
  for (const key of Object.keys(inputs) as (keyof BuildInputs)[]) {
    if (JSON.stringify(manifest.inputs[key]) !== JSON.stringify(inputs[key])) return `${key} changed`;
  }
  for (const key of Object.keys(paths) as (keyof ImagePaths)[]) {
    const record = manifest.outputs?.[key];
    const path = paths[key];
    if (!record || record.path !== path || !existsSync(path)) return `${key} missing`;
    if (fileSha256(path) !== record.sha256) return `${key} changed since it was built`;
  }
  return undefined;
}
