/**
 * Closed request checking in `openflow-spec validate`: a request field its command's schema does not declare is an
 * `unknown-request-field` warning (exit 0), a failure under --strict (exit 1); the wire schemas stay open, so replies
 * with echoed extras and server-started payloads are not affected.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../cli/validate.js";
import type { Finding } from "../validator/findings.js";
import { validateCommandPayload } from "../validator/payload.js";

const dir = mkdtempSync(join(tmpdir(), "openflow-closed-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function capture(name: string, frames: { dir: "c2s" | "s2c"; frame: Record<string, unknown> }[]): string {
  const file = join(dir, name);
  writeFileSync(file, frames.map((f) => JSON.stringify(f)).join("\n") + "\n");
  return file;
}

async function run(argv: string[]): Promise<{ code: number; findings: Finding[] }> {
  let stdout = "";
  const code = await main(["--format", "json", ...argv], {
    stdout: (t) => void (stdout += t),
    stderr: () => undefined,
    stdin: () => Readable.from([""]),
    stderrIsTTY: false,
  });
  return { code, findings: (JSON.parse(stdout) as { findings: Finding[] }).findings };
}

const typoQuery = capture("typo.ndjson", [
  { dir: "c2s", frame: { id: "1", command: "query", data: JSON.stringify({ collectionname: "e", query: {}, tpo: 10 }) } },
  { dir: "s2c", frame: { id: "2", replyto: "1", command: "query", data: JSON.stringify({ collectionname: "e", tpo: 10, result: [] }) } },
]);

describe("unknown request fields", () => {
  it("are a warning naming the field, and fail only under --strict", async () => {
    const lenient = await run([typoQuery]);
    expect(lenient.code).toBe(0);
    expect(lenient.findings.map((f) => [f.code, f.severity, f.pointer, f.line, f.command])).toEqual([["unknown-request-field", "warning", "/tpo", 1, "query"]]);
    expect(lenient.findings[0]?.message).toContain("/tpo is not a field of this request");
    const strict = await run(["--strict", typoQuery]);
    expect(strict.code).toBe(1);
    expect(strict.findings.map((f) => f.code)).toEqual(["unknown-request-field"]);
  });

  it("know every field of every branch and of the common request fields", () => {
    expect(validateCommandPayload("query", "request", { collectionname: "e", query: {}, top: 1, jwt: "t", traceId: "x", spanId: "y", priority: 2 })).toEqual([]);
    expect(validateCommandPayload("addworkitem", "request", { wiq: "q", name: "n", payload: {} })).toEqual([]);
    expect(validateCommandPayload("addworkitem", "request", { wiq: "q", name: "n", nmae: 1 }).map((f) => [f.code, f.pointer])).toEqual([["unknown-request-field", "/nmae"]]);
    expect(validateCommandPayload("queuemessage", "request", { queuename: "q", data: { any: "body" } })).toEqual([]);
  });

  it("are not reported next to a real payload error (a failing branch would make its fields look unknown)", () => {
    expect(validateCommandPayload("query", "request", { collectionname: "e", query: {}, top: "ten", tpo: 1 }).map((f) => [f.code, f.pointer])).toEqual([["payload-invalid", "/top"]]);
  });

  it("leave replies and server-started payloads open", () => {
    expect(validateCommandPayload("query", "reply", { collectionname: "e", result: [], echoedextra: 1 })).toEqual([]);
    expect(validateCommandPayload("watchevent", "request", { id: "w", result: { operationType: "insert" }, extra: 1 })).toEqual([]);
  });
});
