/**
 * Writers of the array files `tensors()` reads, for tests: each builds the format's bytes by
 * hand from its specification (`.npy` headers, zip records, safetensors headers), independently
 * of the readers, so a test of a reader checks it against the format rather than against itself.
 *
 * @module
 */

/** An array to write: NumPy dtype text (`"<f4"`, `"|u1"`), shape and values in C order. */
export interface ArraySpec {
  readonly descr: string;
  readonly shape: readonly number[];
  readonly values: readonly number[];
}

/** Writes one element per value with the little-endian setter of a dtype. */
function elements(descr: string, values: readonly number[]): Uint8Array {
  const size = Number(descr.slice(2));
  const out = new Uint8Array(values.length * size);
  const view = new DataView(out.buffer);
  values.forEach((value, i) => {
    const at = i * size;
    switch (descr.slice(1)) {
      case "f4":
        return view.setFloat32(at, value, true);
      case "f8":
        return view.setFloat64(at, value, true);
      case "i1":
        return view.setInt8(at, value);
      case "i2":
        return view.setInt16(at, value, true);
      case "i4":
        return view.setInt32(at, value, true);
      case "i8":
        return view.setBigInt64(at, BigInt(value), true);
      case "u1":
      case "b1":
        return view.setUint8(at, value);
      case "u2":
        return view.setUint16(at, value, true);
      case "u4":
        return view.setUint32(at, value, true);
      default:
        throw new Error(`no writer for ${descr}`);
    }
  });
  return out;
}

/**
 * A `.npy` file: the magic, version `major.0`, the header dict padded with spaces to a multiple of
 * 64 bytes in all and ended by a newline, then the elements (in the order given: pass Fortran
 * order values with `fortran: true`).
 *
 * @param spec The array.
 * @param options Version (1, 2 or 3), Fortran order, or a header text to use instead.
 * @returns The file's bytes.
 */
export function npyBytes(
  spec: ArraySpec,
  options: { readonly version?: 1 | 2 | 3; readonly fortran?: boolean; readonly header?: string } =
    {},
): Uint8Array {
  const version = options.version ?? 1;
  const shape = spec.shape.length === 1 ? `(${spec.shape[0]},)` : `(${spec.shape.join(", ")})`;
  const dict = options.header ??
    `{'descr': '${spec.descr}', 'fortran_order': ${
      options.fortran ? "True" : "False"
    }, 'shape': ${shape}, }`;
  const prefix = version === 1 ? 10 : 12;
  const padded = Math.ceil((prefix + dict.length + 1) / 64) * 64 - prefix;
  const header = new TextEncoder().encode(dict.padEnd(padded - 1) + "\n");
  const out = new Uint8Array(prefix + header.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  out.set(header, prefix);
  return concat([out, elements(spec.descr, spec.values)]);
}

/** Concatenates byte arrays. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** CRC-32 computed bit by bit (no table), to check the reader's table-driven one. */
function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** Raw deflate of some bytes with the platform's `CompressionStream`. */
async function deflate(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new CompressionStream("deflate-raw"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * A zip archive of the given entries, stored (method 0) or deflated (method 8): local headers,
 * data, central directory, end record (APPNOTE 4.3).
 *
 * @param entries Entry names and contents.
 * @param method 0 (stored) or 8 (deflated).
 * @returns The archive's bytes.
 */
export async function zipBytes(
  entries: readonly (readonly [string, Uint8Array])[],
  method: 0 | 8,
): Promise<Uint8Array> {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const [name, content] of entries) {
    const nameBytes = new TextEncoder().encode(name);
    const data = method === 8 ? await deflate(content) : content;
    const crc = crc32(content);
    const local = new Uint8Array(30 + nameBytes.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, method, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, data.length, true);
    lv.setUint32(22, content.length, true);
    lv.setUint16(26, nameBytes.length, true);
    local.set(nameBytes, 30);
    const central = new Uint8Array(46 + nameBytes.length);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(10, method, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, data.length, true);
    cv.setUint32(24, content.length, true);
    cv.setUint16(28, nameBytes.length, true);
    cv.setUint32(42, offset, true);
    central.set(nameBytes, 46);
    locals.push(local, data);
    centrals.push(central);
    offset += local.length + data.length;
  }
  const directory = concat(centrals);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, directory.length, true);
  ev.setUint32(16, offset, true);
  return concat([...locals, directory, end]);
}

/**
 * A safetensors file: the 8-byte header length, the JSON header, the data in the order given.
 *
 * @param tensors Names, safetensors dtypes (`"F32"`, `"I64"`), shapes and values.
 * @returns The file's bytes.
 */
export function safetensorsBytes(
  tensors: readonly {
    readonly name: string;
    readonly dtype: string;
    readonly shape: readonly number[];
    readonly values: readonly number[];
  }[],
): Uint8Array {
  const DESCR: Record<string, string> = { F32: "<f4", F64: "<f8", I64: "<i8", U8: "|u1" };
  const header: Record<string, unknown> = { __metadata__: { source: "test" } };
  const datas: Uint8Array[] = [];
  let offset = 0;
  for (const { name, dtype, shape, values } of tensors) {
    const data = elements(DESCR[dtype] ?? "<f4", values);
    header[name] = { dtype, shape, data_offsets: [offset, offset + data.length] };
    datas.push(data);
    offset += data.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const length = new Uint8Array(8);
  new DataView(length.buffer).setBigUint64(0, BigInt(json.length), true);
  return concat([length, json, ...datas]);
}
