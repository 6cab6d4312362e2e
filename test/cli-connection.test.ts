/**
 * The one connection layer of the verbs that talk to a server (cli/connection.ts): sign-in options and their
 * environment variables, URL checks, and the message of a failed connection or sign-in.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkServerUrl, ConnectionFailed, EXIT_CANNOT_RUN, openConnection, requireSignIns, signInsFrom } from "../cli/connection.js";
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
