import assert from "node:assert/strict";
import {
  findSecret,
  readTlsFiles,
  runIdBytes,
  SECRET_ENV,
  SECRET_FILE_ENV,
  writeSecretFile,
} from "./auth.ts";

const env = (values: Record<string, string>) => ({ get: (name: string) => values[name] });

Deno.test("a secret is found where given, else in the environment, else nowhere", async () => {
  const folder = await Deno.makeTempDir();
  try {
    const file = `${folder}/secret`;
    await Deno.writeTextFile(file, "f11e0123456789abcdef0123456789ab\n");
    const fromEnv = env({
      [SECRET_ENV]: " e0123456789abcdef0123456789abcde \n",
      [SECRET_FILE_ENV]: file,
    });
    assert.deepEqual(
      await findSecret({ secret: "given0directly0long0enough0base64", env: fromEnv }),
      {
        secret: "given0directly0long0enough0base64",
        source: "the launch parameters",
      },
    );
    assert.deepEqual(await findSecret({ secretFile: file, env: fromEnv }), {
      secret: "f11e0123456789abcdef0123456789ab",
      source: file,
    });
    assert.equal((await findSecret({ env: fromEnv }))?.secret, "e0123456789abcdef0123456789abcde");
    assert.equal(
      (await findSecret({ env: env({ [SECRET_FILE_ENV]: file }) }))?.source,
      `${file} (${SECRET_FILE_ENV})`,
    );
    assert.equal(await findSecret({ env: env({}) }), null);
    assert.equal(await findSecret({ env: null }), null);
    await assert.rejects(
      findSecret({ secret: "short" }),
      /too weak: it must be at least 128 random bits/,
    );
    await assert.rejects(
      findSecret({ secretFile: `${folder}/missing` }),
      /Cannot read the run secret from .*missing/,
    );
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test({
  name: "a secret file is written readable by its owner only, even over an open file",
  ignore: Deno.build.os === "windows",
  async fn() {
    const folder = await Deno.makeTempDir();
    try {
      const file = `${folder}/secret`;
      await Deno.writeTextFile(file, "old", { mode: 0o644 });
      await Deno.chmod(file, 0o644);
      await writeSecretFile(file, "0123456789abcdef0123");
      assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
      assert.equal(await Deno.readTextFile(file), "0123456789abcdef0123\n");
    } finally {
      await Deno.remove(folder, { recursive: true });
    }
  },
});

Deno.test("TLS files come together, and run ids are 32 hex digits", async () => {
  assert.equal(await readTlsFiles(undefined), null);
  assert.equal(await readTlsFiles({}), null);
  const folder = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${folder}/cert.pem`, "CERT");
    await assert.rejects(
      readTlsFiles({ cert: `${folder}/cert.pem` }),
      /a certificate and its key together/,
    );
    await assert.rejects(readTlsFiles({ ca: `${folder}/none.pem` }), /TLS CA certificate/);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
  assert.equal(runIdBytes("00112233445566778899aabbccddeeff").byteLength, 16);
  assert.throws(() => runIdBytes("0011"), /32 hex digits/);
});
