/** Pure parts of the server: rights decoding, ACL checks, topic routing, JSONPath filters, CLI arguments and users files, and `serve` end to end. */
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UsageError } from "../cli/usage.js";
import { aclAllows, rightsMask, Rights, WellknownIds } from "../server/acl.js";
import { topicMatches } from "../server/broker.js";
import { loadUsersFile, parseServeArgs } from "../cli/serve.js";
import { compileJsonPath } from "../server/jsonpath.js";
import { resolveOptions } from "../server/options.js";

describe("rights", () => {
  it("decodes numeric, digit-string and legacy base64 rights", () => {
    expect(rightsMask(65535)).toBe(65535);
    expect(rightsMask(-1)).toBe(Rights.full);
    expect(rightsMask("6")).toBe(6);
    expect(rightsMask(Buffer.alloc(125, 0xff).toString("base64"))).toBe(65535);
    const none = Buffer.alloc(125, 0);
    none[124] = 0x80;
    expect(rightsMask(none.toString("base64"))).toBe(0);
    const readUpdate = Buffer.alloc(125, 0);
    readUpdate[0] = 0b0110;
    expect(rightsMask(readUpdate.toString("base64"))).toBe(Rights.read | Rights.update);
  });

  it("grants through user or role ids, honours deny, lets admins through", () => {
    const user = { _id: "u1", name: "u", roles: [{ _id: "r1", name: "role" }] };
    const acl = [{ _id: "r1", rights: Rights.read | Rights.update }];
    expect(aclAllows(acl, user, Rights.read)).toBe(true);
    expect(aclAllows(acl, user, Rights.delete)).toBe(false);
    expect(aclAllows([...acl, { _id: "u1", rights: Rights.update, deny: true }], user, Rights.update)).toBe(false);
    expect(aclAllows(undefined, user, Rights.read)).toBe(false);
    expect(aclAllows([], { _id: "a", name: "a", roles: [{ _id: WellknownIds.admins, name: "admins" }] }, Rights.delete)).toBe(true);
  });
});

describe("routing and filters", () => {
  it("matches AMQP topic patterns", () => {
    expect(topicMatches("a.*.c", "a.b.c")).toBe(true);
    expect(topicMatches("a.*.c", "a.b.x.c")).toBe(false);
    expect(topicMatches("a.#", "a")).toBe(true);
    expect(topicMatches("a.#.z", "a.b.c.z")).toBe(true);
    expect(topicMatches("#", "anything.at.all")).toBe(true);
  });

  it("evaluates the JSONPath filter subset and refuses the rest", () => {
    const p = compileJsonPath("$.[?(@._type == 'test' && (@.n > 2 || !@.flag))]");
    expect(p({ _type: "test", n: 3, flag: true })).toBe(true);
    expect(p({ _type: "test", n: 1, flag: false })).toBe(true);
    expect(p({ _type: "test", n: 1, flag: true })).toBe(false);
    expect(p({ _type: "other", n: 9 })).toBe(false);
    expect(compileJsonPath("$[?(@.a.b === \"x\")]")({ a: { b: "x" } })).toBe(true);
    expect(() => compileJsonPath("$..book[0]")).toThrow(/not supported by this server/);
    expect(() => compileJsonPath("$.[?(@.a == )]")).toThrow(/watch path/);
  });
});

describe("options and CLI arguments", () => {
  it("validates server options", () => {
    expect(resolveOptions({}).packageSize).toBe(25_000);
    expect(resolveOptions({ rateLimit: true }).rateLimit).toEqual({ points: 30, durationMs: 1_000 });
    expect(() => resolveOptions({ packageSize: 0 })).toThrow(/packageSize/);
    expect(() => resolveOptions({ errorStyle: "2019" as never })).toThrow(/errorStyle/);
  });

  it("parses serve arguments and rejects bad ones with UsageError", () => {
    expect(parseServeArgs(["--port", "0", "--host=0.0.0.0", "--package-size", "4096", "--error-style", "2021"])).toMatchObject({ port: 0, host: "0.0.0.0", packageSize: 4096, errorStyle: "2021" });
    for (const bad of [["--port", "x"], ["--port", "70000"], ["--error-style", "new"], ["--bogus"], ["--users"], ["--package-size", "0"]]) {
      expect(() => parseServeArgs(bad)).toThrow(UsageError);
    }
  });

  it("reads users files and names the bad entry", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ofs-users-"));
    const file = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    expect(await loadUsersFile(file("ok.json", JSON.stringify([{ username: "a", password: "p", roles: ["admins"] }])))).toEqual([{ username: "a", password: "p", roles: ["admins"] }]);
    await expect(loadUsersFile(join(dir, "missing.json"))).rejects.toThrow(/cannot read/);
    await expect(loadUsersFile(file("bad.json", "{"))).rejects.toThrow(/not JSON/);
    await expect(loadUsersFile(file("obj.json", "{}"))).rejects.toThrow(/non-empty JSON array/);
    await expect(loadUsersFile(file("nopw.json", JSON.stringify([{ username: "a" }])))).rejects.toThrow(/entry \[0\]\.password/);
    await expect(loadUsersFile(file("roles.json", JSON.stringify([{ username: "a", password: "p", roles: "admins" }])))).rejects.toThrow(/entry \[0\]\.roles/);
    await expect(loadUsersFile(file("dup.json", JSON.stringify([{ username: "a", password: "p" }, { username: "A", password: "q" }])))).rejects.toThrow(/entry \[1\]\.username "A" appears twice/);
  });
});

describe("startServer", () => {
  it("rejects when the port is taken", async () => {
    const { startServer } = await import("../server/index.js");
    const first = await startServer({ users: [{ username: "u", password: "p" }] });
    try {
      await expect(startServer({ port: first.port, users: [{ username: "u", password: "p" }] })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await first.close();
    }
  });
});

describe("openflow-spec serve", () => {
  function run(args: string[]) {
    return spawn(process.execPath, ["--import", "tsx", "cli/main.ts", "serve", ...args], { cwd: join(import.meta.dirname, ".."), stdio: ["ignore", "pipe", "pipe"] });
  }

  it("prints the URL, the admin credentials and a ready line, and stops cleanly on SIGTERM", async () => {
    const child = run(["--port", "0"]);
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready line: ${out}`)), 15_000);
      child.stdout.on("data", () => {
        if (out.includes("ready")) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    expect(out).toMatch(/listening on ws:\/\/127\.0\.0\.1:\d+\//);
    expect(out).toMatch(/admin user: username "admin", password "\w+"/);
    const code = new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
    child.kill("SIGTERM");
    expect(await code).toBe(0);
  });

  it("exits 2 with a clear message for a bad users file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ofs-serve-"));
    writeFileSync(join(dir, "u.json"), "[1]");
    const child = run(["--users", join(dir, "u.json")]);
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    const code = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
    expect(code).toBe(2);
    expect(err).toMatch(/entry \[0\] must be an object/);
  });
});
