/**
 * The command-line side of `fuzz` and `replay`: `--replay`, `replay` (same and different), cleanup and the name
 * prefix, `--read-only`, `--allow-admin`, the rate limit honoured, every output format, and exit 2 before the run.
 * Short runs with fixed seeds against `serve` (the flows are covered in fuzz.test.ts).
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openConnection } from "../cli/connection.js";
import { command as fuzzCommand } from "../cli/fuzz.js";
import { command as replayCommand } from "../cli/replay.js";
import { loadSpec } from "../fuzz/spec.js";
import type { RunningServer } from "../server/index.js";
import { CaptureRecorder, parseWireMessage } from "../validator/recorder.js";
import { ALICE, BOB, runCli, serveWithDefect, wrapReplies } from "./fuzz-helpers.js";

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** serve, recording every command name and every name-like field the clients send. */
async function recordingServe(options: Parameters<typeof serveWithDefect>[1] = {}, plant?: Parameters<typeof serveWithDefect>[0]) {
  const seen: { command: string; payload: Record<string, unknown> | undefined }[] = [];
  const server = await serveWithDefect((incoming, s) => {
    seen.push({ command: incoming.command, payload: incoming.payload });
    plant?.(incoming, s);
  }, options);
  servers.push(server);
  return { server, seen };
}

const spec = loadSpec();
const effectOf = (command: string) => spec.commands.get(command)?.effect;
/** Frames a client sends that are not requests of its own: answers to the server (pong, acks) and sign-in. */
const own = (seen: { command: string; payload: Record<string, unknown> | undefined }[]) => seen.filter((s) => s.command !== "signin" && s.command !== "pong" && s.command !== "" && !(s.command === "queuemessage" && s.payload && !("data" in s.payload)));

describe("safety", () => {
  it("touches only names under ofsfuzz_<seed>_ and removes what it created", async () => {
    const { server, seen } = await recordingServe();
    const r = await runCli(fuzzCommand, [server.url, "--user", ALICE, "--user", BOB, "--seed", "11", "--requests", "300", "--timeout", "3000"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/names used: ofsfuzz_11_\*/);
    const names = own(seen).flatMap(({ command, payload }) => {
      const p = payload ?? {};
      const out: string[] = [];
      // The cleanup deletes the fuzzer's files (`files`) and the queue records the server keeps in `mq`.
      // The work-item flow reads its own item back from `workitems` by _id.
      const system =
        (command === "deleteone" && (p.collectionname === "files" || p.collectionname === "mq")) ||
        (command === "query" && p.collectionname === "mq" && String((p.query as { name?: unknown })?.name).startsWith("ofsfuzz_11_")) ||
        (command === "query" && p.collectionname === "workitems" && Object.keys(p.query as object).join() === "_id");
      if (typeof p.collectionname === "string" && !system) out.push(p.collectionname);
      for (const key of ["queuename", "wiq", "replyto"]) if (typeof p[key] === "string") out.push(p[key] as string);
      if ((command === "addworkitemqueue" || command === "deleteworkitemqueue") && typeof p.name === "string") out.push(p.name);
      return out;
    });
    expect(names.length).toBeGreaterThan(50);
    expect(names.filter((n) => !n.startsWith("ofsfuzz_11_"))).toEqual([]);
    // Nothing of the fuzzer's is left: no document in its collections, no queue or work-item queue, no work item,
    // no file. (The history the server keeps in *_hist is the server's audit trail, not the fuzzer's to delete.)
    const current = server.context.store.names().filter((n) => !n.endsWith("_hist"));
    const left = current.filter((n) => n.startsWith("ofsfuzz_")).flatMap((n) => server.context.store.all(n));
    expect(left).toEqual([]);
    const everywhere = current.flatMap((n) => server.context.store.all(n).filter((d) => JSON.stringify(d).includes("ofsfuzz_11_")));
    expect(everywhere).toEqual([]);
  });

  it("--read-only sends only commands marked read", async () => {
    const { server, seen } = await recordingServe();
    const r = await runCli(fuzzCommand, [server.url, "--user", ALICE, "--seed", "3", "--requests", "120", "--read-only", "--format", "json"]);
    expect(r.code).toBe(0);
    const commands = new Set(own(seen).map((s) => s.command).filter((c) => effectOf(c) !== undefined));
    expect(commands.size).toBeGreaterThan(3);
    expect([...commands].filter((c) => effectOf(c) !== "read")).toEqual([]);
    expect(JSON.parse(r.stdout).skipped.join(" ")).toMatch(/data: --read-only/);
  });

  it("admin commands only with --allow-admin", async () => {
    const without = await recordingServe();
    expect((await runCli(fuzzCommand, [without.server.url, "--user", ALICE, "--seed", "5", "--requests", "250", "--commands", "insertone,createcollection,dropcollection"])).code).toBe(0);
    expect(own(without.seen).filter((s) => effectOf(s.command) === "admin").map((s) => s.command)).toEqual([]);
    const withAdmin = await recordingServe({ users: [{ username: "alice", password: "pw-alice", roles: ["admins"] }] });
    expect((await runCli(fuzzCommand, [withAdmin.server.url, "--user", ALICE, "--seed", "5", "--requests", "250", "--commands", "insertone,createcollection,dropcollection", "--allow-admin"])).code).toBe(0);
    const admin = own(withAdmin.seen).filter((s) => effectOf(s.command) === "admin");
    expect(admin.map((s) => s.command)).toContain("dropcollection");
    // Whole messages only (chunked ones have no payload here): every admin command names the fuzzer's collection.
    expect(admin.filter((s) => s.payload !== undefined && !String(s.payload.collectionname).startsWith("ofsfuzz_5_"))).toEqual([]);
  });

  it("honours the server's rate limit: backs off and finds nothing", async () => {
    const { server } = await recordingServe({ rateLimit: { points: 40, durationMs: 1000 } });
    const r = await runCli(fuzzCommand, [server.url, "--user", ALICE, "--seed", "9", "--requests", "90", "--commands", "insertone,query", "--timeout", "2000", "--format", "json"]);
    const report = JSON.parse(r.stdout) as { rateLimited: number; failures: { message: string; steps: unknown[] }[] };
    expect(report.failures.map((f) => [f.message, f.steps])).toEqual([]);
    expect(report.rateLimited).toBeGreaterThan(0);
    expect(r.code).toBe(0);
  });
});

describe("replay", () => {
  const brokenQuery = (incoming: Parameters<NonNullable<Parameters<typeof serveWithDefect>[0]>>[0]) =>
    wrapReplies(incoming.conn, (command, payload) => (command === "query" && payload && typeof payload === "object" && Array.isArray((payload as { result?: unknown }).result) && (payload as { result: unknown[] }).result.length > 0 ? { ...payload, result: "one document" } : payload));

  it("fuzz --replay FILE runs the minimal sequence again: still failing on the broken server, passing on a fixed one", async () => {
    const broken = await recordingServe({}, brokenQuery);
    const dir = mkdtempSync(join(tmpdir(), "ofs-replay-"));
    const r = await runCli(fuzzCommand, [broken.server.url, "--user", ALICE, "--seed", "1", "--requests", "60", "--commands", "insertone", "--out", dir]);
    expect(r.code).toBe(1);
    const file = join(dir, readdirSync(dir)[0] as string);
    const again = await runCli(fuzzCommand, ["--replay", file, broken.server.url, "--user", ALICE]);
    expect(again.code).toBe(1);
    expect(again.stdout).toMatch(/FAIL reply-invalid: .*\/result must be array/);
    expect(again.stdout).toMatch(/still happens/);
    const fixed = await recordingServe();
    const ok = await runCli(fuzzCommand, ["--replay", file, fixed.server.url, "--user", ALICE]);
    expect(ok.stdout).toMatch(/ran without failure/);
    expect(ok.code).toBe(0);
    const bad = join(dir, "not-a-replay.ndjson");
    writeFileSync(bad, '{"dir":"c2s","frame":{"id":"1","command":"query"}}\n');
    expect((await runCli(fuzzCommand, ["--replay", bad, fixed.server.url, "--user", ALICE])).code).toBe(2);
  });

  /** A capture like `serve --record` writes: a client inserts, reads, updates, reads, deletes. */
  async function captureOfSession(): Promise<string> {
    const lines: string[] = [];
    const recorder = new CaptureRecorder((line) => lines.push(line));
    const server = await serveWithDefect(undefined, { onFrame: (dir, text, conn) => recorder.message(conn, dir === "in" ? "c2s" : "s2c", parseWireMessage(text)) });
    servers.push(server);
    const client = await openConnection(server.url, { credentials: { username: "alice", password: "pw-alice" }, label: "alice" }, { heartbeat: false });
    try {
      const inserted = (await client.request("insertone", { collectionname: "books", item: { _type: "book", name: "Dune", year: 1965 } })) as { result: { _id: string } };
      const id = inserted.result._id;
      await client.request("query", { collectionname: "books", query: { _id: id } });
      await client.request("updateone", { collectionname: "books", item: { _id: id, _type: "book", name: "Dune", year: 1966 } });
      await client.request("query", { collectionname: "books", query: { _id: id } });
      await client.request("count", { collectionname: "books", query: {} });
      await client.request("deleteone", { collectionname: "books", id });
    } finally {
      client.close();
    }
    recorder.flush();
    const file = join(mkdtempSync(join(tmpdir(), "ofs-capture-")), "session.ndjson");
    writeFileSync(file, lines.join(""));
    return file;
  }

  it("replay: the same server gives the same replies (ids, dates and tokens ignored)", async () => {
    const file = await captureOfSession();
    expect(readFileSync(file, "utf8")).toMatch(/\[redacted\]/);
    const { server } = await recordingServe();
    const r = await runCli(replayCommand, [file, server.url, "--user", ALICE]);
    expect(r.stdout).toMatch(/6 requests, 6 replies compared, 0 differences: same/);
    expect(r.code).toBe(0);
  });

  it("replay: a server that loses updates differs, at the field that changed", async () => {
    const file = await captureOfSession();
    const { server } = await recordingServe({}, ({ command, payload }, s) => {
      if (command !== "updateone" || typeof payload?.collectionname !== "string") return;
      const name = payload.collectionname;
      const stop = s.context.store.onChange((change) => {
        if (change.collection !== name || !change.before) return;
        stop();
        const before = change.before;
        queueMicrotask(() => s.context.store.collection(name, true).docs.set(String(before._id), before));
      });
    });
    const r = await runCli(replayCommand, [file, server.url, "--user", ALICE, "--format", "json"]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { same: boolean; differences: { command: string; pointer: string }[] };
    expect(report.same).toBe(false);
    expect(report.differences).toContainEqual(expect.objectContaining({ command: "query", pointer: "/result/0/year" }));
  });

  it("replay: a fuzz session's own traffic (as serve --record writes it) replays the same on a fresh server", async () => {
    const lines: string[] = [];
    const recorder = new CaptureRecorder((line) => lines.push(line));
    const { server } = await recordingServe({ errorStyle: "2021", onFrame: (dir, text, conn) => recorder.message(conn, dir === "in" ? "c2s" : "s2c", parseWireMessage(text)) });
    expect((await runCli(fuzzCommand, [server.url, "--user", ALICE, "--user", BOB, "--seed", "3", "--requests", "150"])).code).toBe(0);
    recorder.flush();
    const file = join(mkdtempSync(join(tmpdir(), "ofs-capture-")), "fuzz.ndjson");
    writeFileSync(file, lines.join(""));
    const fresh = await recordingServe({ errorStyle: "2021" });
    const r = await runCli(replayCommand, [file, fresh.server.url, "--user", ALICE, "--user", BOB, "--timeout", "2000"]);
    expect(r.stdout).toMatch(/, 0 differences: same/);
    expect(Number(/(\d+) replies compared/.exec(r.stdout)?.[1])).toBeGreaterThan(100);
    expect(r.code).toBe(0);
  });

  it("replay exits 2 when it cannot run", async () => {
    const { server } = await recordingServe();
    expect((await runCli(replayCommand, ["/nonexistent/capture.ndjson", server.url, "--user", ALICE])).code).toBe(2);
    const file = await captureOfSession();
    expect((await runCli(replayCommand, [file, server.url, "--user", "alice:wrong"])).code).toBe(2);
  });
});

describe("output formats and exit codes", () => {
  it("text, json, junit and github report the same failure", async () => {
    const { server } = await recordingServe({}, ({ conn }) => wrapReplies(conn, (command, payload) => (command === "count" ? { ...(payload as object), result: "many" } : payload)));
    const args = [server.url, "--user", ALICE, "--seed", "4", "--requests", "40", "--commands", "count"];
    const text = await runCli(fuzzCommand, args);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^FAIL reply-invalid: payload-invalid: count reply payload: \/result must be (integer|number)/m);
    expect(text.stdout).toMatch(/openflow-spec fuzz: seed 4, .* 1 failure, .*: FAILED/);
    const json = await runCli(fuzzCommand, [...args, "--format", "json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, seed: 4, failures: [{ invariant: "reply-invalid", command: "count" }] });
    const junit = await runCli(fuzzCommand, [...args, "--format", "junit"]);
    expect(junit.stdout).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="openflow-spec fuzz" tests="\d+" failures="1"/);
    expect(junit.stdout).toMatch(/<failure type="reply-invalid" message="payload-invalid: count reply payload/);
    const github = await runCli(fuzzCommand, [...args, "--format", "github"]);
    expect(github.stdout).toMatch(/^::error title=fuzz reply-invalid%3A count::payload-invalid: count reply payload/m);
    expect(github.code).toBe(1);
  });

  it("--slow: a reply slower than the budget is a failure", async () => {
    const { server } = await recordingServe({}, ({ conn }) => {
      const c = conn as typeof conn & { __slow?: boolean };
      if (c.__slow) return;
      c.__slow = true;
      const original = conn.reply.bind(conn);
      conn.reply = (id: string, command: string, payload: unknown) => void (command === "count" ? setTimeout(() => original(id, command, payload), 300) : original(id, command, payload));
    });
    const r = await runCli(fuzzCommand, [server.url, "--user", ALICE, "--seed", "2", "--requests", "40", "--commands", "count", "--slow", "200"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL slow: count took \d+ ms \(budget --slow 200\)/m);
  });

  it("exits 2 for usage, connection and sign-in problems before the run", async () => {
    const { server } = await recordingServe();
    expect((await runCli(fuzzCommand, [server.url])).code).toBe(2);
    expect((await runCli(fuzzCommand, [server.url, "--user", "alice:wrong"])).code).toBe(2);
    expect((await runCli(fuzzCommand, [server.url, "--user", ALICE, "--user", "nobody:x"])).code).toBe(2);
    expect((await runCli(fuzzCommand, ["ws://127.0.0.1:1/", "--user", ALICE, "--timeout", "2000"])).code).toBe(2);
    expect((await runCli(fuzzCommand, [server.url, "--user", ALICE, "--commands", "qeury"])).stderr).toMatch(/unknown command "qeury"/);
    expect((await runCli(fuzzCommand, [server.url, "--user", ALICE, "--read-only", "--allow-admin"])).code).toBe(2);
  });
});
