/**
 * Certificates for the TLS tests, made with `openssl` (Debian's, which the test command's setup
 * installs) in a fresh temporary directory: a test authority, and a server certificate it signed
 * for `localhost` and 127.0.0.1, EC P-256, valid for two days.
 */

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A server certificate, its key, the authority that signed it, and the files they are in. */
export interface TestCertificate {
  /** The server's certificate, PEM. */
  readonly cert: string;
  /** The server's private key, PEM. */
  readonly key: string;
  /** The certificate authority that signed it, PEM: what a client is to trust. */
  readonly ca: string;
  /** The server certificate's file (for the CLI's `--cert`). */
  readonly certFile: string;
  /** The key's file. */
  readonly keyFile: string;
  /** The authority's file (for curl's `--cacert`). */
  readonly caFile: string;
  /** Removes the files. */
  remove(): void;
}

/**
 * Makes a certificate authority and, signed by it, a server certificate for `localhost` and
 * 127.0.0.1. (A self-signed certificate used as its own authority is refused by some clients:
 * webpki, in Deno's fetch, answers `CaUsedAsEndEntity`.)
 * @returns The certificates and key.
 * @throws {Error} When openssl is missing or fails, with its output.
 */
export function makeCertificate(): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), "h1serve-tls-"));
  const file = (name: string) => join(dir, name);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl([
    "req",
    "-x509",
    ...ec,
    "-keyout",
    file("ca-key.pem"),
    "-out",
    file("ca.pem"),
    "-days",
    "2",
    "-subj",
    "/CN=h1serve test CA",
  ]);
  openssl(["req", ...ec, "-keyout", file("key.pem"), "-out", file("server.csr"), "-subj", "/CN=localhost"]);
  writeFileSync(
    file("server.ext"),
    "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n" +
      "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
  );
  openssl([
    "x509",
    "-req",
    "-in",
    file("server.csr"),
    "-CA",
    file("ca.pem"),
    "-CAkey",
    file("ca-key.pem"),
    "-CAcreateserial",
    "-out",
    file("cert.pem"),
    "-days",
    "2",
    "-extfile",
    file("server.ext"),
  ]);
  return {
    cert: readFileSync(file("cert.pem"), "utf8"),
    key: readFileSync(file("key.pem"), "utf8"),
    ca: readFileSync(file("ca.pem"), "utf8"),
    certFile: file("cert.pem"),
    keyFile: file("key.pem"),
    caFile: file("ca.pem"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

function openssl(args: string[]): void {
  const result = spawnSync("openssl", args, { encoding: "utf8" });
  if (result.status !== 0) {
    throw new Error(`openssl ${args[0]} failed (Debian package "openssl"): ${result.error ?? result.stderr}`);
  }
}
