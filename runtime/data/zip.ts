/**
 * Reads the entries of a zip archive (an `.npz` file is one, of `.npy` files), stored or
 * deflated, as `np.savez` and `np.savez_compressed` write them.
 *
 * Entries are found through the central directory at the end of the archive, whose sizes are
 * exact even where a local header's are not (Python's zipfile, which NumPy uses, writes local
 * headers with zip64 placeholders); the local header is read only for where the data starts.
 * Deflated data goes through `DecompressionStream("deflate-raw")` and every entry's CRC-32 is
 * checked. Zip64 archives (over 4 GiB or 65,535 entries), encryption and other compression
 * methods are refused with a message that says so.
 *
 * @module
 */

/** An entry of the central directory. */
interface Entry {
  readonly method: number;
  readonly flags: number;
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localOffset: number;
}

/** An archive's entries by name, read on demand. */
export interface ZipArchive {
  /** Entry names, in central directory order. */
  readonly names: readonly string[];
  /**
   * The uncompressed bytes of an entry.
   *
   * @param name The entry's name.
   * @returns Its bytes.
   */
  read(name: string): Promise<Uint8Array>;
}

const END_OF_DIRECTORY = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const DIRECTORY_ENTRY = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;
const STORED = 0;
const DEFLATED = 8;

/**
 * Opens a zip archive held in memory.
 *
 * @param bytes The archive's bytes.
 * @returns Its entry names and a reader for each entry.
 * @throws {Error} Saying what is wrong: no end-of-central-directory record (not a zip), a zip64
 *   archive, or a directory entry out of range.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openZip } from "./zip.ts";
 * // An empty archive is just its 22-byte end record.
 * const empty = new Uint8Array(22);
 * new DataView(empty.buffer).setUint32(0, 0x06054b50, true);
 * assert.deepEqual(openZip(empty).names, []);
 * ```
 */
export function openZip(bytes: Uint8Array): ZipArchive {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = findEnd(view);
  if (end >= 20 && view.getUint32(end - 20, true) === ZIP64_LOCATOR) {
    throw new Error("zip64 archives are not supported (the .npz is over 4 GiB or 65,535 arrays)");
  }
  const count = view.getUint16(end + 10, true);
  const directorySize = view.getUint32(end + 12, true);
  const directoryOffset = view.getUint32(end + 16, true);
  if (count === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff) {
    throw new Error("zip64 archives are not supported (the .npz is over 4 GiB or 65,535 arrays)");
  }
  if (directoryOffset + directorySize > end) {
    throw new Error("the zip central directory lies outside the file");
  }
  const entries = new Map<string, Entry>();
  let at = directoryOffset;
  for (let i = 0; i < count; i++) {
    if (at + 46 > end || view.getUint32(at, true) !== DIRECTORY_ENTRY) {
      throw new Error(`zip central directory entry ${i} is damaged`);
    }
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const name = new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLength));
    const entry: Entry = {
      flags: view.getUint16(at + 8, true),
      method: view.getUint16(at + 10, true),
      crc: view.getUint32(at + 16, true),
      compressedSize: view.getUint32(at + 20, true),
      size: view.getUint32(at + 24, true),
      localOffset: view.getUint32(at + 42, true),
    };
    if ([entry.compressedSize, entry.size, entry.localOffset].includes(0xffffffff)) {
      throw new Error(`zip entry "${name}" is zip64, which is not supported`);
    }
    entries.set(name, entry);
    at += 46 + nameLength + extraLength + commentLength;
  }
  return {
    names: [...entries.keys()],
    read: (name) => {
      const entry = entries.get(name);
      if (entry === undefined) return Promise.reject(new Error(`no zip entry "${name}"`));
      return readEntry(bytes, view, name, entry);
    },
  };
}

/** The offset of the end-of-central-directory record, searched from the end (past a comment). */
function findEnd(view: DataView): number {
  const last = view.byteLength - 22;
  for (let at = last; at >= 0 && at >= last - 0xffff; at--) {
    if (view.getUint32(at, true) === END_OF_DIRECTORY) return at;
  }
  throw new Error("not a zip archive (no end-of-central-directory record)");
}

/** Decompresses (or copies) one entry and checks its size and CRC. */
async function readEntry(
  bytes: Uint8Array,
  view: DataView,
  name: string,
  entry: Entry,
): Promise<Uint8Array> {
  if ((entry.flags & 1) !== 0) throw new Error(`zip entry "${name}" is encrypted`);
  const local = entry.localOffset;
  if (local + 30 > bytes.length || view.getUint32(local, true) !== LOCAL_HEADER) {
    throw new Error(`zip entry "${name}" has no local header where the directory says`);
  }
  const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
  if (start + entry.compressedSize > bytes.length) {
    throw new Error(`zip entry "${name}" runs past the end of the file`);
  }
  const raw = bytes.subarray(start, start + entry.compressedSize);
  let data: Uint8Array;
  if (entry.method === STORED) {
    data = raw;
  } else if (entry.method === DEFLATED) {
    try {
      data = await inflate(raw);
    } catch (error) {
      throw new Error(`zip entry "${name}" is not valid deflate data: ${String(error)}`);
    }
  } else {
    throw new Error(
      `zip entry "${name}" uses compression method ${entry.method}; only stored (0) and deflated (8) are supported`,
    );
  }
  if (data.length !== entry.size || crc32(data) !== entry.crc) {
    throw new Error(`zip entry "${name}" is damaged (its size or CRC-32 does not match)`);
  }
  return data;
}

/** Inflates raw deflate data. */
async function inflate(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new DecompressionStream("deflate-raw"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

let table: Uint32Array | null = null;

/**
 * The CRC-32 (IEEE 802.3, as zip uses) of some bytes.
 *
 * @param data The bytes.
 * @returns The checksum, unsigned.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { crc32 } from "./zip.ts";
 * assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
 * ```
 */
export function crc32(data: Uint8Array): number {
  if (table === null) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
