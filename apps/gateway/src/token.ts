// The API bearer token: QUASIVM_TOKEN when set, else the one stored in <state dir>/token,
// else a new random one, written there (mode 0600) and shown once.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const MIN_TOKEN_LENGTH = 16;

export interface ResolvedToken {
  token: string;
  /** 'env', 'file' (read from an earlier start) or 'generated' (new, show it to the user). */
  source: 'env' | 'file' | 'generated';
  file?: string;
}

export function tokenFile(stateDir: string): string {
  return path.join(stateDir, 'token');
}

function checkToken(token: string, where: string): string {
  if (token.length < MIN_TOKEN_LENGTH) throw new Error(`${where} must hold a token of at least ${MIN_TOKEN_LENGTH} characters`);
  if (!/^[\x21-\x7e]+$/.test(token)) throw new Error(`${where} must hold a token of printable ASCII without spaces`);
  return token;
}

export function resolveToken(envToken: string | undefined, stateDir: string): ResolvedToken {
  if (envToken !== undefined && envToken !== '') return { token: checkToken(envToken, 'QUASIVM_TOKEN'), source: 'env' };
  const file = tokenFile(stateDir);
  if (existsSync(file)) return { token: checkToken(readFileSync(file, 'utf8').trim(), file), source: 'file', file };
  const token = randomBytes(32).toString('base64url');
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { token, source: 'generated', file };
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time comparison (hashing first makes the lengths equal). */
export function tokenMatches(given: string | undefined, expected: string): boolean {
  return given !== undefined && timingSafeEqual(digest(given), digest(expected));
}
