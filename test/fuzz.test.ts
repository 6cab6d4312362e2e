/**
 * `openflow-spec fuzz` against `serve`: clean in both error styles and at two package sizes, and against servers
 * with planted defects (a reply of the wrong shape, a read that changes stored data, a connection dropped on invalid
 * input, an update that reports success but is not stored), each found by the flows on their first pass, with a
 * minimal sequence and a replay file. Fixed seeds, bounded runs.
 */
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { command as fuzzCommand } from "../cli/fuzz.js";
import { command as validateCommand } from "../cli/validate.js";
import type { RunningServer } from "../server/index.js";
import { ALICE, BOB, runCli, serveWithDefect, wrapReplies } from "./fuzz-helpers.js";

interface JsonReport {
  ok: boolean;
  requests: number;
  flows: string[];
  skipped: string[];
  rateLimited: number;
  cleanup: { removed: number; failed: number };
  failures: { invariant: string; command: string; message: string; steps: { command: string; as: number }[]; frames: { dir: string; text: string }[]; replay: string | null }[];
}

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function fuzzJson(server: RunningServer, extra: string[] = []): Promise<{ code: number; report: JsonReport; stderr: string }> {
  const r = await runCli(fuzzCommand, [server.url, "--user", ALICE, "--user", BOB, "--seed", "7", "--requests", extra.includes("--out") ? "150" : "250", "--duration", "20", "--timeout", "3000", "--format", "json", ...extra]);
  return { code: r.code, report: JSON.parse(r.stdout || "{}") as JsonReport, stderr: r.stderr };
}

describe("fuzz against serve", () => {
  it.each([
    { errorStyle: "latest" as const, packageSize: 25_000 },
    { errorStyle: "2021" as const, packageSize: 200 },
  ])("finds nothing in serve ($errorStyle error style, package size $packageSize)", async ({ errorStyle, packageSize }) => {
    const server = await serveWithDefect(undefined, { errorStyle, packageSize });
    servers.push(server);
    const { code, report } = await fuzzJson(server);
    expect(report.failures.map((f) => `${f.invariant} ${f.command}: ${f.message}`)).toEqual([]);
    expect(code).toBe(0);
    // Every flow ran at both package sizes, and the random phase sent requests beyond them.
    for (const flow of ["data", "acl", "queues", "watches", "workitems", "files"]) {
      expect(report.flows).toContain(`${flow} (server package size)`);
      expect(report.flows).toContain(`${flow} (package size 128)`);
    }
    expect(report.requests).toBeGreaterThanOrEqual(250);
    expect(report.cleanup.failed).toBe(0);
  });
});

describe("planted defects are found on the first pass, with a minimal sequence", () => {
  const out = () => mkdtempSync(join(tmpdir(), "ofs-fuzz-"));

  async function expectFound(server: RunningServer, invariant: string, command: string | RegExp, maxSteps: number) {
    servers.push(server);
    const dir = out();
    const { code, report } = await fuzzJson(server, ["--out", dir]);
    expect(code).toBe(1);
    const failure = report.failures.find((f) => f.invariant === invariant && (typeof command === "string" ? f.command === command : command.test(f.message)));
    expect(failure, JSON.stringify(report.failures.map((f) => [f.invariant, f.command, f.message]))).toBeDefined();
    expect(failure?.steps.length).toBeLessThanOrEqual(maxSteps);
    expect(failure?.frames.some((f) => f.dir === "c2s")).toBe(true);
    if (invariant !== "connection-dropped") expect(failure?.frames.some((f) => f.dir === "s2c")).toBe(true);
    const file = failure?.replay as string;
    expect(readdirSync(dir)).toContain(file.split(/[\\/]/).pop());
    return { failure: failure as JsonReport["failures"][number], file };
  }

  it("a reply of the wrong shape (query's result is not an array)", async () => {
    const server = await serveWithDefect(({ conn }) => wrapReplies(conn, (command, payload) => (command === "query" && payload && typeof payload === "object" && Array.isArray((payload as { result?: unknown }).result) && (payload as { result: unknown[] }).result.length > 0 ? { ...payload, result: "one document" } : payload)));
    // The first query is the read that checks the insert: the failure is reported on the insert's step.
    const { failure, file } = await expectFound(server, "reply-invalid", /query reply payload: \/result must be array/, 1);
    expect(failure.steps.map((s) => s.command)).toEqual(["insertone"]);
    // The replay file is a capture `validate` reads, and it shows the same broken reply.
    const v = await runCli(validateCommand, [file]);
    expect(v.stdout).toMatch(/payload-invalid: query reply payload: \/result must be array/);
    expect(v.code).toBe(1);
  });

  it("a read that changes stored data (getdocumentversion marks the documents it looks at)", async () => {
    const server = await serveWithDefect(({ command, payload }, s) => {
      if (command !== "getdocumentversion" || typeof payload?.collectionname !== "string") return;
      for (const doc of s.context.store.all(payload.collectionname)) s.context.store.replace(payload.collectionname, { ...doc, seen: true });
    });
    const { failure } = await expectFound(server, "read-changed-state", "getdocumentversion", 2);
    expect(failure.steps.map((s) => s.command)).toEqual(["insertone", "getdocumentversion"].slice(2 - failure.steps.length));
  });

  it("a connection dropped on invalid input (data that is not JSON)", async () => {
    const server = await serveWithDefect(({ conn, frame }) => {
      if (typeof frame.data === "string" && frame.data.startsWith("{not")) conn.close(1000, "bye");
    });
    const { failure } = await expectFound(server, "connection-dropped", "query", 1);
    expect(failure.steps).toHaveLength(1);
  });

  it("an update that reports success but is not stored", async () => {
    let undo: (() => void) | undefined;
    const server = await serveWithDefect(({ command, payload }, s) => {
      if (command !== "updateone" || typeof payload?.collectionname !== "string") return;
      undo?.();
      const name = payload.collectionname;
      const stop = s.context.store.onChange((change) => {
        if (change.collection !== name || change.operationType === "insert" || !change.before) return;
        stop();
        // Put the old document back: the handler already built its success reply from the new one.
        const before = change.before;
        queueMicrotask(() => s.context.store.collection(name, true).docs.set(String(before._id), before));
      });
      undo = stop;
    });
    const { failure } = await expectFound(server, "read-your-writes", "updateone", 2);
    expect(failure.steps.map((s) => s.command)).toEqual(["insertone", "updateone"]);
  });
});
