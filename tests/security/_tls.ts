/**
 * Certificates for the TLS tests: a throw-away CA and a certificate it signed for `127.0.0.1`
 * and `localhost`, made with `openssl` in a temporary folder (tests skip when it is missing).
 *
 * @module
 */

/** Paths of the files, and the folder to remove afterwards. */
export interface TestCertificates {
  readonly folder: string;
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/** Whether `openssl` can be run. */
export async function hasOpenssl(): Promise<boolean> {
  try {
    return (await new Deno.Command("openssl", { args: ["version"], stdout: "null" }).output())
      .success;
  } catch {
    return false;
  }
}

async function openssl(cwd: string, ...args: string[]): Promise<void> {
  const { success, stderr } = await new Deno.Command("openssl", {
    args,
    cwd,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!success) {
    throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(stderr)}`);
  }
}

/**
 * Makes a CA and a certificate for `127.0.0.1` and `localhost`, valid for two days (EC P-256).
 *
 * @returns The files.
 */
export async function makeCertificates(): Promise<TestCertificates> {
  const folder = await Deno.makeTempDir({ prefix: "gossamer_tls_" });
  const curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl(
    folder,
    "req",
    "-x509",
    ...curve,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=gossamer test CA",
  );
  await openssl(
    folder,
    "req",
    ...curve,
    "-keyout",
    "key.pem",
    "-out",
    "leaf.csr",
    "-subj",
    "/CN=localhost",
  );
  await Deno.writeTextFile(
    `${folder}/leaf.ext`,
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n" +
      "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n",
  );
  await openssl(
    folder,
    "x509",
    "-req",
    "-in",
    "leaf.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "cert.pem",
    "-days",
    "2",
    "-extfile",
    "leaf.ext",
  );
  return {
    folder,
    ca: `${folder}/ca.pem`,
    cert: `${folder}/cert.pem`,
    key: `${folder}/key.pem`,
  };
}
