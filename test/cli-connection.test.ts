/**
 * The one connection layer of the verbs that talk to a server (cli/connection.ts): sign-in options and their
 * environment variables, URL checks, and the message of a failed connection or sign-in.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkServerUrl, ConnectionFailed, describeConnectError, EXIT_CANNOT_RUN, lookupVia, networkSettingsFrom, openConnection, requireSignIns, signInsFrom } from "../cli/connection.js";
import { OpenFlowError } from "../runtime/errors.js";
import { UsageError } from "../cli/usage.js";
import { startServer, type RunningServer } from "../server/index.js";

describe("sign-in options", () => {
  it("reads --user NAME:PASSWORD, keeping colons in the password", () => {
    expect(signInsFrom({ user: ["alice:pa:ss"] }, {})).toEqual([{ credentials: { username: "alice", password: "pa:ss" }, label: "alice" }]);
  });
  it("refuses a --user without a name or without a colon, and never echoes the value", () => {
    expect(() => signInsFrom({ user: ["secretpassword"] }, {})).toThrow(UsageError);
    try {
      signInsFrom({ user: ["secretpassword"] }, {});
    } catch (err) {
      expect((err as Error).message).not.toContain("secretpassword");
    }
    expect(() => signInsFrom({ user: [":pw"] }, {})).toThrow(/no name/);
  });
  it("falls back to OPENFLOW_USER/OPENFLOW_PASSWORD, then OPENFLOW_JWT; options win", () => {
    expect(signInsFrom({}, { OPENFLOW_USER: "bob", OPENFLOW_PASSWORD: "pw" })[0]?.credentials).toEqual({ username: "bob", password: "pw" });
    expect(signInsFrom({}, { OPENFLOW_JWT: "tok" })[0]).toEqual({ credentials: { jwt: "tok" }, label: "jwt" });
    expect(signInsFrom({ jwt: "mine" }, { OPENFLOW_USER: "bob", OPENFLOW_PASSWORD: "pw" })).toEqual([{ credentials: { jwt: "mine" }, label: "jwt" }]);
    expect(() => signInsFrom({}, { OPENFLOW_USER: "bob" })).toThrow(/OPENFLOW_PASSWORD is not/);
  });
  it("bounds the number of users and requires one where the verb needs it", () => {
    expect(() => signInsFrom({ user: ["a:1", "b:2"] }, {}, 1)).toThrow(/one --user/);
    expect(signInsFrom({ user: ["a:1", "b:2"] }, {}, 2)).toHaveLength(2);
    expect(() => requireSignIns({}, {})).toThrow(/--user NAME:PASSWORD, --jwt TOKEN, or OPENFLOW_USER/);
  });
});

describe("server URL", () => {
  it("accepts ws and wss, and says what to use for http", () => {
    expect(checkServerUrl("ws://127.0.0.1:3000/ws/v1")).toBe("ws://127.0.0.1:3000/ws/v1");
    expect(() => checkServerUrl("http://example.test/ws")).toThrow(/use ws:\/\/example.test\/ws/);
    expect(() => checkServerUrl("ftp://x")).toThrow(/unsupported scheme/);
    expect(() => checkServerUrl("not a url")).toThrow(/not a URL/);
  });
});

describe("openConnection against serve", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ users: [{ username: "alice", password: "pw-alice" }], logger: { info() {}, warn() {}, error() {} } });
  });
  afterAll(async () => {
    await server.close();
  });

  it("signs in and answers a command", async () => {
    const client = await openConnection(server.url, { credentials: { username: "alice", password: "pw-alice" }, label: "alice" });
    try {
      expect(client.user?.username).toBe("alice");
    } finally {
      client.close();
    }
  });

  it("a wrong password fails with exit 2, naming the user and never the password", async () => {
    const err = await openConnection(server.url, { credentials: { username: "alice", password: "wrong-secret" }, label: "alice" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionFailed);
    expect((err as ConnectionFailed).exitCode).toBe(EXIT_CANNOT_RUN);
    expect((err as Error).message).toMatch(/sign-in as alice refused/);
    expect((err as Error).message).not.toContain("wrong-secret");
  });
});

describe("network options and the resolver", () => {
  it("--ca reads a PEM file, --insecure disables verification, both together or an unreadable file are usage errors", async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = mkdtempSync(join(tmpdir(), "openflow-conn-"));
    try {
      const pem = join(dir, "ca.pem");
      writeFileSync(pem, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
      expect(networkSettingsFrom({ ca: pem }).tls).toEqual({ ca: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n" });
      expect(networkSettingsFrom({ insecure: true }).tls).toEqual({ dangerouslyDisableTlsVerification: true });
      expect(networkSettingsFrom({}).tls).toBeUndefined();
      expect(networkSettingsFrom({}).connectTimeoutMs).toBe(10_000);
      expect(networkSettingsFrom({ "connect-timeout": "3" }).connectTimeoutMs).toBe(3000);
      expect(() => networkSettingsFrom({ ca: pem, insecure: true })).toThrow(/contradict/);
      expect(() => networkSettingsFrom({ ca: join(dir, "missing.pem") })).toThrow(/--ca .*missing\.pem: cannot read: no such file or folder/);
      expect(() => networkSettingsFrom({ "connect-timeout": "0" })).toThrow(/--connect-timeout must be a whole number from 1 to 3600/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("lookupVia answers net's lookup in both callback shapes, and passes failures on", async () => {
    const lookup = lookupVia(async (name) => {
      if (name === "known.test") return { address: "127.0.0.1", family: 4 };
      throw Object.assign(new Error("nope"), { code: "ENOTFOUND" });
    });
    const one = await new Promise<unknown[]>((resolve) => lookup("known.test", {}, (...args) => resolve(args)));
    expect(one).toEqual([null, "127.0.0.1", 4]);
    const all = await new Promise<unknown[]>((resolve) => lookup("known.test", { all: true }, (...args) => resolve(args)));
    expect(all).toEqual([null, [{ address: "127.0.0.1", family: 4 }]]);
    const failed = await new Promise<unknown[]>((resolve) => lookup("unknown.test", {}, (...args) => resolve(args)));
    expect((failed[0] as NodeJS.ErrnoException).code).toBe("ENOTFOUND");
  });

  it("names the --ca fix for an untrusted certificate", () => {
    const err = new OpenFlowError("closed", "websocket to wss://x/ failed to open: the TLS certificate of x was not accepted (DEPTH_ZERO_SELF_SIGNED_CERT; see the tls option)");
    expect(describeConnectError(err, "wss://x/", "alice")).toMatch(/trust the server's certificate or its CA with --ca FILE; --insecure skips the check, for tests only/);
  });
});
