/**
 * A run's credentials: the secret every connection proves it holds (`comm/handshake.ts`), the
 * run id, the plan's hash, and TLS certificate files. Shared by the coordinator and the
 * workers.
 *
 * Where the secret comes from:
 * - local launches (threads, processes): a fresh random secret per run, handed to each worker
 *   in its launch message (`postMessage`, or standard input), never on a command line;
 * - workers started by hand (`--launch none`): the text of the environment variable
 *   {@linkcode SECRET_ENV}, or of the file named by the worker's secret-file option or
 *   {@linkcode SECRET_FILE_ENV}. The coordinator takes its secret from the same places, or
 *   generates one and writes it to `<run folder>/secret` (mode 0600) for the workers to read,
 *   and removes it when the run ends.
 *
 * A secret is random bytes written in hex (at least {@linkcode MIN_SECRET_CHARS} digits) or in
 * base64 (at least 22 characters before any `=`): at least 128 bits, beyond an offline search
 * even by someone who captured a handshake. Text of other characters (a password a person
 * chose) is refused, with how to make one (`openssl rand -hex 32`). Surrounding white space is
 * ignored, so a file may end with a newline; the UTF-8 bytes of the text key the HMAC.
 * Generated secrets are 32 random bytes in hex.
 *
 * @module
 */

import { fromHex, PLAN_HASH_BYTES, RUN_ID_BYTES, toHex } from "./comm/handshake.ts";
import type { TlsPem } from "./comm/net.ts";
import type { Plan } from "../dsl/plan.ts";
import { planHash } from "./plan_hash.ts";
import { messageOf } from "./errors.ts";

/** The environment variable that holds a run's secret for workers started by hand. */
export const SECRET_ENV = "GOSSAMER_SECRET";

/** The environment variable that names a file holding a run's secret. */
export const SECRET_FILE_ENV = "GOSSAMER_SECRET_FILE";

/** The shortest secret accepted, in hex digits: 128 bits. */
export const MIN_SECRET_CHARS = 32;

/** The fewest base64 characters (before any padding) that hold 128 bits. */
const MIN_BASE64_CHARS = 22;

/** The name of the secret file the coordinator writes into a run folder. */
export const SECRET_FILE_NAME = "secret";

/**
 * A fresh random secret: 32 bytes from the system's CSPRNG, as 64 hex digits.
 *
 * @returns The secret text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateSecret } from "./auth.ts";
 * assert.match(generateSecret(), /^[0-9a-f]{64}$/);
 * ```
 */
export function generateSecret(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(32)));
}

/**
 * A fresh random run id, 16 bytes as 32 hex digits.
 *
 * @returns The run id.
 */
export function generateRunId(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(RUN_ID_BYTES)));
}

/**
 * The bytes of a run id written in hex.
 *
 * @param runId 32 hex digits.
 * @returns 16 bytes.
 * @throws {RangeError} When the text is not a run id.
 */
export function runIdBytes(runId: string): Uint8Array {
  if (!/^[0-9a-fA-F]{32}$/.test(runId)) {
    throw new RangeError(`A run id is 32 hex digits, got "${runId}"`);
  }
  return fromHex(runId);
}

/**
 * Checks a secret's text and returns the key bytes it stands for.
 *
 * @param text The secret, as given.
 * @param where Where it came from, for the message.
 * @returns The UTF-8 bytes of the trimmed text.
 * @throws {Error} When the secret is not hex or base64 of at least 128 bits, saying how to
 * generate one.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { secretBytes } from "./auth.ts";
 * assert.equal(secretBytes(" 0123456789abcdef0123456789abcdef\n", "a test").byteLength, 32);
 * assert.throws(() => secretBytes("correct horse battery", "a test"), /openssl rand -hex 32/);
 * ```
 */
export function secretBytes(text: string, where: string): Uint8Array {
  const trimmed = text.trim();
  const hex = /^[0-9a-fA-F]+$/.test(trimmed);
  const base64 = /^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed);
  const strong = hex
    ? trimmed.length >= MIN_SECRET_CHARS
    : base64 && trimmed.replace(/=+$/, "").length >= MIN_BASE64_CHARS;
  if (!strong) {
    throw new Error(
      `The run secret from ${where} is too weak: it must be at least 128 random bits, written as ${MIN_SECRET_CHARS} or more hex digits or ${MIN_BASE64_CHARS} or more base64 characters, got ${trimmed.length} ${
        hex ? "hex digits" : base64 ? "base64 characters" : "characters of other text"
      } (generate one with: openssl rand -hex 32)`,
    );
  }
  return new TextEncoder().encode(trimmed);
}

/**
 * Reads a secret from a file.
 *
 * @param path The file.
 * @returns The secret text, trimmed.
 * @throws {Error} When the file cannot be read or holds too short a secret, naming the file.
 */
export async function readSecretFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new Error(`Cannot read the run secret from ${path}: ${messageOf(error)}`);
  }
  secretBytes(text, path);
  return text.trim();
}

/**
 * Writes a secret to a file only its owner can read (mode 0600, also when the file existed).
 *
 * @param path The file.
 * @param secret The secret text.
 */
export async function writeSecretFile(path: string, secret: string): Promise<void> {
  // The mode applies only to a new file: an existing one is narrowed first, before the secret
  // is in it.
  if (Deno.build.os !== "windows") {
    await Deno.chmod(path, 0o600).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  }
  await Deno.writeTextFile(path, `${secret}\n`, { mode: 0o600 });
}

/** Where a secret was found. */
export interface FoundSecret {
  /** The secret text. */
  readonly secret: string;
  /** Where it came from, in words (for messages). */
  readonly source: string;
}

/** Where to look for a secret, in order. */
export interface SecretSources {
  /** The secret itself. */
  readonly secret?: string;
  /** A file holding it. */
  readonly secretFile?: string;
  /** The environment (default `Deno.env`); `null` to ignore it. */
  readonly env?: { get(name: string): string | undefined } | null;
}

/**
 * Finds a run's secret: the one given, else the file given, else {@linkcode SECRET_ENV}, else
 * the file named by {@linkcode SECRET_FILE_ENV}.
 *
 * @param sources Where to look.
 * @returns The secret and where it came from, or `null` when there is none.
 * @throws {Error} When a secret is found but unusable (too short, an unreadable file).
 */
export async function findSecret(sources: SecretSources): Promise<FoundSecret | null> {
  if (sources.secret !== undefined) {
    secretBytes(sources.secret, "the launch parameters");
    return { secret: sources.secret.trim(), source: "the launch parameters" };
  }
  if (sources.secretFile !== undefined) {
    return { secret: await readSecretFile(sources.secretFile), source: sources.secretFile };
  }
  const env = sources.env === undefined ? environment() : sources.env;
  const fromEnv = env?.get(SECRET_ENV);
  if (fromEnv !== undefined && fromEnv !== "") {
    secretBytes(fromEnv, SECRET_ENV);
    return { secret: fromEnv.trim(), source: SECRET_ENV };
  }
  const file = env?.get(SECRET_FILE_ENV);
  if (file !== undefined && file !== "") {
    return { secret: await readSecretFile(file), source: `${file} (${SECRET_FILE_ENV})` };
  }
  return null;
}

/** `Deno.env`, or `null` where reading it is not permitted. */
function environment(): { get(name: string): string | undefined } | null {
  try {
    Deno.env.get(SECRET_ENV);
    return Deno.env;
  } catch {
    return null;
  }
}

/**
 * The plan's SHA-256 as bytes, for handshakes (see `plan_hash.ts`).
 *
 * @param plan The plan.
 * @returns {@linkcode PLAN_HASH_BYTES} bytes.
 */
export async function planHashBytes(plan: Plan): Promise<Uint8Array> {
  const bytes = fromHex(await planHash(plan));
  if (bytes.byteLength !== PLAN_HASH_BYTES) throw new Error("Unexpected plan hash length");
  return bytes;
}

/** Certificate files for TLS (paths to PEM files). */
export interface TlsFiles {
  /** This process's certificate chain. */
  readonly cert?: string;
  /** Its private key. */
  readonly key?: string;
  /** The CA certificate that peers' certificates are checked against. */
  readonly ca?: string;
}

/**
 * Reads TLS files into PEM text; `null` when no file is given (plain TCP).
 *
 * @param files The paths.
 * @returns The PEM material.
 * @throws {Error} When a file cannot be read, naming it.
 */
export async function readTlsFiles(files: TlsFiles | undefined): Promise<TlsPem | null> {
  if (files === undefined) return null;
  const read = async (what: string, path: string | undefined) => {
    if (path === undefined) return undefined;
    try {
      return await Deno.readTextFile(path);
    } catch (error) {
      throw new Error(`Cannot read the TLS ${what} ${path}: ${messageOf(error)}`);
    }
  };
  const [cert, key, ca] = await Promise.all([
    read("certificate", files.cert),
    read("key", files.key),
    read("CA certificate", files.ca),
  ]);
  if (cert === undefined && key === undefined && ca === undefined) return null;
  if ((cert === undefined) !== (key === undefined)) {
    throw new Error("TLS needs a certificate and its key together");
  }
  return {
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
    ...(ca === undefined ? {} : { caCerts: [ca] }),
  };
}
