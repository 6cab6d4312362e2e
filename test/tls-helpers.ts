/** A throwaway self-signed certificate for 127.0.0.1, made with openssl, for TLS tests (skipped without openssl). */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const hasOpenssl = spawnSync("openssl", ["version"]).status === 0;

/** Writes key.pem and cert.pem into `dir` and returns their paths and PEM text. */
export function selfSignedCertificate(dir: string): { keyFile: string; certFile: string; key: string; cert: string } {
  const keyFile = join(dir, "key.pem");
  const certFile = join(dir, "cert.pem");
  const made = spawnSync(
    "openssl",
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyFile, "-out", certFile, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
    { timeout: 20_000 },
  );
  if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr.toString()}`);
  return { keyFile, certFile, key: readFileSync(keyFile, "utf8"), cert: readFileSync(certFile, "utf8") };
}
