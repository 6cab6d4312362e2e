/**
 * `openflow-spec validate` end to end: fixture captures (good, and bad ones with exactly one kind of problem each)
 * through the CLI's `main`, in process, asserting the exact findings and exit codes; plus one spawn of the real
 * dispatcher (`tsx cli/main.ts validate`).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../cli/validate.js";
import { findingCodes, type Finding } from "../validator/findings.js";

const FIX = "test/fixtures/captures";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(argv: string[], stdin?: string): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    stdin: () => Readable.from([stdin ?? ""]),
    stderrIsTTY: false,
  });
  return { code, stdout, stderr };
}

/** A usage error: exit 2, nothing on stdout, the message (after the command prefix) on stderr. */
async function expectUsage(argv: string[], want: RegExp): Promise<void> {
  const r = await run(argv);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe("");
  expect(r.stderr.replace(/^openflow-spec validate: /, "")).toMatch(want);
}

interface JsonReport {
  version: number;
  findings: Finding[];
  inputs: { file: string; mode: string; lines: number; frames: number; messages: number; errors: number; warnings: number; ok: boolean; suppressed: number }[];
  unreadable: { file: string; message: string }[];
  summary: { inputs: number; frames: number; messages: number; errors: number; warnings: number; suppressed: number; unreadable: number; ok: boolean };
}

async function runJson(argv: string[], stdin?: string): Promise<{ code: number; report: JsonReport }> {
  const r = await run(["--format", "json", ...argv], stdin);
  return { code: r.code, report: JSON.parse(r.stdout) as JsonReport };
}

// [fixture, expected findings as [code, line, pointer]] - each bad capture has one kind of problem.
const bad: [string, [string, number, string | undefined][]][] = [
  ["bad-not-json.ndjson", [["not-json", 3, undefined]]],
  ["bad-envelope-invalid.ndjson", [["envelope-invalid", 3, "/dir"]]],
  ["bad-frame-invalid.ndjson", [["frame-invalid", 1, "/priority"]]],
  ["bad-frame.json", [["index-out-of-range", 1, "/index"]]],
  ["bad-count-string.ndjson", [["count-string", 1, "/count"]]],
  ["bad-index-string.ndjson", [["index-string", 1, "/index"]]],
  ["bad-index-out-of-range.ndjson", [["index-out-of-range", 2, "/index"]]],
  ["bad-chunk-duplicate.ndjson", [["chunk-duplicate", 3, "/index"]]],
  ["bad-chunk-mismatch.ndjson", [["chunk-mismatch", 2, "/count"]]],
  ["bad-chunk-missing.ndjson", [["chunk-missing", 3, "/index"]]],
  ["bad-incomplete-message.ndjson", [["incomplete-message", 3, "/index"]]],
  ["bad-data-not-json.ndjson", [["data-not-json", 1, "/data"]]],
  ["bad-payload-invalid.ndjson", [["payload-invalid", 1, "/top"]]],
  ["bad-content-schema.ndjson", [["payload-invalid", 1, "/query"]]],
  ["bad-reply-payload.ndjson", [["payload-invalid", 2, "/result"]]],
  ["bad-unknown-command.ndjson", [["unknown-command", 3, undefined]]],
  ["bad-unanswered-request.ndjson", [["unanswered-request", 3, undefined]]],
  ["bad-unacknowledged-push.ndjson", [["unacknowledged-push", 3, undefined]]],
  ["bad-unknown-reply.ndjson", [["unknown-reply", 3, "/replyto"]]],
  ["bad-wrong-direction-reply.ndjson", [["unknown-reply", 2, "/replyto"]]],
  ["bad-reply-command-mismatch.ndjson", [["reply-command-mismatch", 2, "/command"]]],
];

describe("validate fixtures", () => {
  it.each(bad)("%s gives exactly its finding and exit 1", async (name, want) => {
    const file = `${FIX}/bad/${name}`;
    const { code, report } = await runJson([file]);
    expect(code).toBe(1);
    expect(report.findings.map((f) => [f.code, f.line, f.pointer])).toEqual(want);
    for (const f of report.findings) {
      expect(f.file).toBe(file);
      expect(f.severity).toBe("error");
    }
  });

  it("names the frame id, command and direction of a finding", async () => {
    const { report } = await runJson([`${FIX}/bad/bad-reply-payload.ndjson`]);
    expect(report.findings[0]).toMatchObject({ id: "s1", command: "query", dir: "s2c", pointer: "/result" });
    expect(report.findings[0]?.message).toContain("query reply payload");
  });

  it("reports a JSON-in-string field against its contentSchema", async () => {
    const { report } = await runJson([`${FIX}/bad/bad-content-schema.ndjson`]);
    expect(report.findings[0]?.message).toContain("inside its JSON text");
  });

  it("accepts the good captures, the lone frame and the undirected stream", async () => {
    const { code, report } = await runJson([`${FIX}/good`]);
    expect(report.findings).toEqual([]);
    expect(code).toBe(0);
    expect(report.inputs.map((i) => [i.file.split("/").pop(), i.mode])).toEqual([
      ["good-frame.json", "document"],
      ["good-session.ndjson", "capture"],
      ["good-undirected.ndjson", "capture"],
    ]);
    const session = report.inputs.find((i) => i.file.endsWith("good-session.ndjson"));
    expect(session).toMatchObject({ frames: 19, messages: 16, errors: 0, warnings: 0, ok: true });
  });

  it("treats warnings as passing unless --strict", async () => {
    const lenient = await runJson([`${FIX}/warn`]);
    expect(lenient.code).toBe(0);
    expect(lenient.report.findings.map((f) => [f.code, f.severity, f.pointer])).toEqual([
      ["command-case", "warning", "/command"],
      ["replyto-empty", "warning", "/replyto"],
    ]);
    expect((await run(["--strict", `${FIX}/warn`])).code).toBe(1);
  });

  it("skips pairing checks with --no-pairing, still validating each reply by its own command", async () => {
    for (const name of ["bad-unanswered-request.ndjson", "bad-unknown-reply.ndjson", "bad-unacknowledged-push.ndjson", "bad-wrong-direction-reply.ndjson"]) {
      expect((await run(["--no-pairing", `${FIX}/bad/${name}`])).code).toBe(0);
    }
    const { code, report } = await runJson(["--no-pairing", `${FIX}/bad/bad-reply-payload.ndjson`]);
    expect(code).toBe(1);
    expect(report.findings.map((f) => [f.code, f.pointer])).toEqual([["payload-invalid", "/result"]]);
  });

  it("walks a folder in sorted order and sums the findings", async () => {
    const { code, report } = await runJson([`${FIX}/bad`]);
    expect(code).toBe(1);
    const files = report.inputs.map((i) => i.file);
    expect(files).toEqual([...files].sort());
    expect(files).toHaveLength(bad.length);
    expect(report.summary.errors).toBe(bad.reduce((n, [, w]) => n + w.length, 0));
  });
});

describe("validate payloads (--command)", () => {
  it("validates a payload file against the request schema", async () => {
    expect((await run(["--command", "query", `${FIX}/payloads/good-payload-query-request.json`])).code).toBe(0);
    const { code, report } = await runJson(["--command", "query", "--kind", "request", `${FIX}/payloads/bad-payload-query-request.json`]);
    expect(code).toBe(1);
    expect(report.findings.map((f) => [f.code, f.pointer])).toEqual([["payload-invalid", "/collectionname"]]);
  });

  it("uses the reply schema with --kind reply, one payload per line from stdin", async () => {
    const lines = [JSON.stringify({ result: [] }), JSON.stringify({ result: 5 })].join("\n");
    const { code, report } = await runJson(["--command", "query", "--kind", "reply", "-"], lines);
    expect(code).toBe(1);
    expect(report.findings.map((f) => [f.code, f.line, f.pointer])).toEqual([["payload-invalid", 2, "/result"]]);
  });

  it("rejects an unknown --command as usage", async () => {
    await expectUsage(["--command", "nosuchcommand", "-"], /--command "nosuchcommand" is not a known command/);
  });
});

describe("validate input handling", () => {
  const dir = mkdtempSync(join(tmpdir(), "validate-cli-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads a capture from standard input", async () => {
    const text = readFileSync(`${FIX}/bad/bad-unanswered-request.ndjson`, "utf8");
    const { code, report } = await runJson(["-"], text);
    expect(code).toBe(1);
    expect(report.findings.map((f) => [f.code, f.file, f.line])).toEqual([["unanswered-request", "-", 3]]);
  });

  it("reads one pretty-printed frame from standard input as a document", async () => {
    const text = readFileSync(`${FIX}/good/good-frame.json`, "utf8");
    const { code, report } = await runJson(["-"], text);
    expect(code).toBe(0);
    expect(report.inputs[0]?.mode).toBe("document");
  });

  it("reports a broken JSON document with the line of the error", async () => {
    const file = join(dir, "broken.json");
    writeFileSync(file, '{\n  "id": "a",\n  "command": "ping",\n  oops\n}\n');
    const { code, report } = await runJson([file]);
    expect(code).toBe(1);
    expect(report.findings.map((f) => [f.code, f.line])).toEqual([["not-json", 4]]);
  });

  it("exits 2 for a missing file but still reports the others", async () => {
    const { code, report } = await runJson([join(dir, "missing.ndjson"), `${FIX}/good/good-session.ndjson`]);
    expect(code).toBe(2);
    expect(report.unreadable).toEqual([{ file: join(dir, "missing.ndjson"), message: "no such file or folder" }]);
    expect(report.summary).toMatchObject({ inputs: 1, unreadable: 1, ok: false });
  });

  it("exits 2 with a message for bad arguments", async () => {
    await expectUsage([], /no input: give files, folders, or -/);
    await expectUsage(["--format", "xml", "x"], /--format must be one of text, json, junit, github, got "xml"/);
    await expectUsage(["--bogus", "x"], /unknown option '--bogus'/);
    await expectUsage(["--max-findings", "-3", "x"], /--max-findings/);
    await expectUsage(["--kind", "reply", "x"], /--kind needs --command/);
    await expectUsage(["--strcit", "x"], /unknown option '--strcit' \(did you mean --strict\?\)/);
  });

  it("names the option in argument errors instead of Node's long parser text", async () => {
    await expectUsage(["--bogus", "x"], /^unknown option '--bogus' \(see --help/);
    await expectUsage(["-z", "x"], /^unknown option '-z'/);
    await expectUsage(["--command"], /^--command needs a value/);
    await expectUsage(["x", "-o"], /^--output needs a value/);
    await expectUsage(["--kind", "sideways", "--command", "query", "x"], /--kind must be one of request, reply, got "sideways"/);
    await expectUsage(["--command", "nosuch", "x"], /--command "nosuch" is not a known command/);
  });

  it("exits 2 naming a folder that holds no captures", async () => {
    const empty = mkdtempSync(join(dir, "nocaptures-"));
    writeFileSync(join(empty, "notes.txt"), "not a capture\n");
    const { code, report } = await runJson([empty]);
    expect(code).toBe(2);
    expect(report.unreadable).toEqual([{ file: empty, message: "folder holds no .json, .ndjson or .jsonl files" }]);
  });

  it("reports an empty file and an immediately closed stdin as not-json (exit 1)", async () => {
    const file = join(dir, "empty.json");
    writeFileSync(file, "");
    for (const [args, stdin, name] of [[[file], undefined, file], [["-"], "", "-"]] as const) {
      const { code, report } = await runJson([...args], stdin);
      expect(code).toBe(1);
      expect(report.findings).toEqual([expect.objectContaining({ code: "not-json", file: name, message: "empty input: expected a JSON document" })]);
    }
  });

  it("exits 2 for bytes that are not UTF-8 (binary file, Latin-1 text), naming line and byte", async () => {
    const binary = join(dir, "binary.ndjson");
    writeFileSync(binary, Buffer.from([0x7b, 0x7d, 0x0a, 0x00, 0x9f, 0x92, 0x96, 0xff, 0x0a]));
    const latin1 = join(dir, "latin1.ndjson");
    const latin1Bytes = Buffer.concat([Buffer.from('{"id":"1","command":"ping"}\n{"id":"2","command":"query","data":"{\\"q\\":\\"caf'), Buffer.from([0xe9]), Buffer.from('\\"}"}\n')]);
    writeFileSync(latin1, latin1Bytes);
    const { code, report } = await runJson([binary, latin1]);
    expect(code).toBe(2);
    expect(report.unreadable).toEqual([
      { file: binary, message: "not UTF-8 text: invalid byte 0x9f at line 2 (byte 5); frames and captures must be UTF-8 JSON" },
      { file: latin1, message: `not UTF-8 text: malformed multi-byte character starting with byte 0xe9 at line 2 (byte ${latin1Bytes.indexOf(0xe9) + 1}); frames and captures must be UTF-8 JSON` },
    ]);
    const text = await run([binary]);
    expect(text.stdout).toContain(`${binary}: cannot read: not UTF-8 text: invalid byte 0x9f at line 2`);
    expect(text.stdout).not.toMatch(/[\u0000-\u0008]/);
  });

  it("handles a 10 MB single-line frame", async () => {
    const file = join(dir, "huge-line.ndjson");
    const frame = { id: "big1", command: "insertone", data: JSON.stringify({ collectionname: "entities", item: { _type: "blob", body: "x".repeat(10 * 1024 * 1024) } }) };
    writeFileSync(file, JSON.stringify(frame));
    const { code, report } = await runJson(["--no-pairing", file]);
    expect(report.findings).toEqual([]);
    expect(report.inputs[0]).toMatchObject({ frames: 1, messages: 1, lines: 1 });
    expect(code).toBe(0);
  });

  it("prints help", async () => {
    const r = await run(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("usage: openflow-spec validate");
    for (const code of Object.keys(findingCodes)) expect(r.stdout).toContain(code);
  });

  it("caps shown findings with --max-findings but counts them all", async () => {
    const file = join(dir, "many.ndjson");
    writeFileSync(file, Array.from({ length: 30 }, () => "nope").join("\n"));
    const { code, report } = await runJson(["--max-findings", "5", file]);
    expect(code).toBe(1);
    expect(report.findings).toHaveLength(5);
    expect(report.summary).toMatchObject({ errors: 30, suppressed: 25 });
  });

  it("shows progress on stderr only when it is a terminal, for inputs over 16 MB", async () => {
    const file = join(dir, "large.ndjson");
    const line = JSON.stringify({ dir: "c2s", frame: { id: "p", command: "ping", count: 1, index: 0, data: null, priority: 5 } });
    // Blank lines are skipped cheaply, so the size comes almost for free.
    writeFileSync(file, `${line}\n${`${" ".repeat(1023)}\n`.repeat(17 * 1024)}`);
    let tty = "";
    let pipe = "";
    const quiet = (): void => {};
    expect(await main(["-q", file], { stdout: quiet, stderr: (t) => void (tty += t), stderrIsTTY: true })).toBe(0);
    expect(await main(["-q", file], { stdout: quiet, stderr: (t) => void (pipe += t), stderrIsTTY: false })).toBe(0);
    expect(tty).toMatch(/\rvalidate: .*large\.ndjson \d+\.\d of 17\.0 MB read/);
    expect(pipe).toBe("");
    rmSync(file);
  });

  it("writes the report to --output", async () => {
    const out = join(dir, "report.json");
    const r = await run(["--format", "json", "-o", out, `${FIX}/good/good-session.ndjson`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect((JSON.parse(readFileSync(out, "utf8")) as JsonReport).summary.ok).toBe(true);
  });
});

describe("validate report formats", () => {
  it("text: file:line, severity, code, id, command, pointer and a summary line", async () => {
    const r = await run([`${FIX}/bad/bad-payload-invalid.ndjson`]);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toBe(
      `${FIX}/bad/bad-payload-invalid.ndjson:1: error payload-invalid: query request payload: /top must be integer [c2s, id c1, command query, at /top]`,
    );
    expect(lines[1]).toBe("openflow-spec validate: 1 input, 2 frames, 2 messages, 1 error, 0 warnings: FAILED");
  });

  it("json: one well-formed document with findings, inputs and summary", async () => {
    const { report } = await runJson([`${FIX}/bad/bad-chunk-missing.ndjson`, `${FIX}/good/good-frame.json`]);
    expect(report.version).toBe(1);
    expect(Object.keys(report)).toEqual(["version", "findings", "inputs", "unreadable", "summary"]);
    expect(report.inputs.map((i) => i.ok)).toEqual([false, true]);
    expect(report.summary).toEqual({ inputs: 2, frames: 5, messages: 3, errors: 1, warnings: 0, suppressed: 0, unreadable: 0, ok: false });
    for (const f of report.findings) expect(Object.keys(findingCodes)).toContain(f.code);
  });

  it("junit: well-formed XML, one testcase per input, failures for invalid ones", async () => {
    const r = await run(["--format", "junit", `${FIX}/bad/bad-unknown-reply.ndjson`, `${FIX}/good`, "/nonexistent/capture.ndjson"]);
    expect(r.code).toBe(2);
    const xml = r.stdout;
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites')).toBe(true);
    expectWellFormed(xml);
    const cases = xml.match(/<testcase /g) ?? [];
    expect(cases).toHaveLength(5);
    expect(xml).toMatch(/<testsuite name="openflow-spec validate" tests="5" failures="1" errors="1"/);
    expect(xml).toContain('<failure message="unknown-reply: reply to nope');
    expect(xml).toContain('type="unreadable"');
  });

  it("github: one workflow-command annotation per finding with file and line, escaped, then the summary", async () => {
    const bad = `${FIX}/bad/bad-unknown-reply.ndjson`;
    const warn = `${FIX}/warn/warn-command-case.ndjson`;
    const r = await run(["--format", "github", bad, warn, "/nonexistent/capture.ndjson"]);
    expect(r.code).toBe(2);
    const lines = r.stdout.trimEnd().split("\n");
    const annotations = lines.filter((l) => l.startsWith("::"));
    expect(annotations.find((l) => l.startsWith(`::error file=${bad},line=`))).toMatch(/^::error file=[^,]+,line=\d+,title=openflow-spec unknown-reply::reply to nope/);
    expect(annotations.find((l) => l.startsWith(`::warning file=${warn},line=`))).toMatch(/title=openflow-spec command-case::command "Query" is not lower case/);
    expect(annotations).toContain("::error file=/nonexistent/capture.ndjson,title=openflow-spec cannot read::no such file or folder");
    // No raw newline or unescaped property separator can break an annotation line.
    for (const a of annotations) expect(a).toMatch(/^::(error|warning)( [a-z]+=[^,:]*(,[a-z]+=[^,:]*)*)?::/);
    expect(lines.at(-1)).toMatch(/^openflow-spec validate: 2 inputs, .*: FAILED$/);
    // Under --strict a warning fails the run, so it is annotated as an error.
    const strict = await run(["--format", "github", "--strict", warn]);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toMatch(/^::error file=.*title=openflow-spec command-case::/m);
  });
});

/** Minimal XML well-formedness: balanced tags, quoted attributes, only the five escapes. */
function expectWellFormed(xml: string): void {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, "");
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w.-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  for (let m = tag.exec(body); m; m = tag.exec(body)) {
    const text = body.slice(last, m.index);
    expect(text).not.toMatch(/[<>]/);
    expect(text.replace(/&(amp|lt|gt|quot|apos);/g, "")).not.toContain("&");
    last = tag.lastIndex;
    const [, close, name, , selfClose] = m;
    if (close) expect(stack.pop()).toBe(name);
    else if (!selfClose) stack.push(name as string);
  }
  expect(body.slice(last).trim()).toBe("");
  expect(stack).toEqual([]);
}

describe("validate through the openflow-spec dispatcher", () => {
  it("runs `tsx cli/main.ts validate` with the documented exit codes", () => {
    const tsx = "node_modules/.bin/tsx";
    const ok = spawnSync("npx", ["tsx", "cli/main.ts", "validate", `${FIX}/good`], { encoding: "utf8", timeout: 60_000 });
    expect(ok.stdout).toContain("0 errors");
    expect(ok.status).toBe(0);
    const bad = spawnSync(tsx, ["cli/main.ts", "validate", "--format", "json", `${FIX}/bad/bad-count-string.ndjson`], { encoding: "utf8", timeout: 60_000 });
    expect(bad.status).toBe(1);
    expect((JSON.parse(bad.stdout) as JsonReport).findings.map((f) => f.code)).toEqual(["count-string"]);
    const usage = spawnSync(tsx, ["cli/main.ts", "validate", "--format", "xml", "x"], { encoding: "utf8", timeout: 60_000 });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain("--format must be one of text, json, junit, github");
  });
});
