/**
 * Root cause 6, peer-chosen text in reports: a frame id, a command, a field name or a file name chosen by whoever
 * wrote the traffic must never start a line a CI log obeys (`::error`, `::add-mask::`, `##[error]`) nor carry a
 * raw control character, in any output format (text, json, junit, github) nor in the proxy's `--check` lines.
 * Property-based over generated hostile text, run through the real validator and the real reporters.
 */
import { Readable } from "node:stream";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Finding } from "../../validator/findings.js";
import { GithubReporter } from "../../validator/report/github.js";
import { JsonReporter } from "../../validator/report/json.js";
import { JunitReporter } from "../../validator/report/junit.js";
import type { Reporter } from "../../validator/report/reporter.js";
import { formatFinding, TextReporter } from "../../validator/report/text.js";
import { validateInput } from "../../validator/run.js";

/** Pieces an attacker would put in a frame id, command, key or file name. */
const hostilePiece = fc.oneof(
  fc.constantFrom(
    "\n::error::pwned",
    "\r\n::add-mask::x",
    "\r::warning file=a::b",
    "%0A::error::encoded",
    "%0D%0A::stop-commands::t",
    "\u2028::error::ls",
    "\u2029::error::ps",
    "\u0085::error::nel",
    "\u000b::vt",
    "\u000c::ff",
    "\n##[error]legacy",
    "\n##vso[task.complete result=Failed]",
    "\u001b[2J\u001b[31mred",
    "\u202e\u2066bidi",
    "\ud800lone",
    "\t::tab",
    "\u0000nul",
    "::error::start",
    " ::error::space",
    "##[error]start",
    "%",
    "%25",
    ",",
    ":",
  ),
  fc.string({ unit: "binary", maxLength: 12 }),
  fc.string({ unit: fc.constantFrom("\n", "\r", ":", "#", "%", "\u2028", "a", " ", "\u0085"), maxLength: 10 }),
);
const hostileText = fc.array(hostilePiece, { minLength: 1, maxLength: 4 }).map((parts) => parts.join(""));

/** Every line of `output` is safe for a CI log. */
function assertSafe(output: string, format: string): void {
  expect(output, `${format}: raw control character`).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/);
  for (const line of output.split("\n")) {
    const start = line.replace(/^[\s\ufeff]+/, "");
    if (format === "github" && /^::(error|warning) /.test(line)) {
      // Our own annotation: the properties and message are escaped, so no `\n` or `%0A`-decoded break survives.
      expect(line.indexOf("::", 2), format).toBeGreaterThan(0);
      continue;
    }
    expect(start.startsWith("::"), `${format}: line starts a workflow command: ${JSON.stringify(line)}`).toBe(false);
    expect(start.startsWith("##"), `${format}: line starts a legacy command: ${JSON.stringify(line)}`).toBe(false);
  }
}

function report(make: (out: (s: string) => void) => Reporter, findings: Finding[], file: string): string {
  let text = "";
  const r = make((s) => (text += s));
  r.startInput(file);
  for (const f of findings) r.finding(f);
  r.endInput({ file, mode: "capture", lines: 1, frames: 1, messages: 1, errors: findings.length, warnings: 0 }, 2);
  r.unreadable({ file, message: `cannot open ${file}` });
  r.end({ inputs: 1, frames: 1, messages: 1, errors: findings.length, warnings: 0, suppressed: 2, unreadable: 1, ok: false });
  return text;
}

const formats: [string, (out: (s: string) => void) => Reporter][] = [
  ["text", (out) => new TextReporter(out)],
  ["json", (out) => new JsonReporter(out)],
  ["junit", (out) => new JunitReporter(out)],
  ["github", (out) => new GithubReporter(out)],
];

describe("peer-chosen text in reports", () => {
  it("property: no hostile id, command, key, connection or file name yields a command line or a raw control character", async () => {
    await fc.assert(
      fc.asyncProperty(hostileText, hostileText, hostileText, hostileText, hostileText, async (id, command, key, conn, file) => {
        // A capture line per place the text can go: id, command, a payload key, a reply to an unknown id, conn.
        const lines = [
          JSON.stringify({ conn, dir: "c2s", frame: { id, command, data: "{}" } }),
          JSON.stringify({ conn, dir: "c2s", frame: { id: "2", command: "query", data: JSON.stringify({ collectionname: "x", query: {}, [key]: 1 }) } }),
          JSON.stringify({ conn, dir: "s2c", frame: { id: "3", command: "queryreply", replyto: id, data: "{}" } }),
          JSON.stringify({ conn, dir: "c2s", frame: { id, command: "insertone", count: 2, index: 0, data: "{" } }),
        ];
        const findings: Finding[] = [];
        await validateInput(Readable.from([lines.join("\n")]), { file, mode: "capture", onFinding: (f) => findings.push(f) });
        expect(findings.length).toBeGreaterThan(0);
        for (const [name, make] of formats) assertSafe(report(make, findings, file), name);
        // The proxy's --check lines.
        assertSafe(findings.map((f) => `${formatFinding(f)}\n`).join(""), "proxy --check");
      }),
      { seed: 19_6, numRuns: 300 },
    );
  });

  it("the escaped text still names what it escaped, and JSON reads back the exact value", async () => {
    const id = "7\n::error::x";
    const findings: Finding[] = [];
    await validateInput(Readable.from([`${JSON.stringify({ dir: "s2c", frame: { id: "r", command: "queryreply", replyto: id, data: "{}" } })}\n${JSON.stringify({ dir: "c2s", frame: { id: "a\u2028b", command: "nope", data: "{}" } })}`]), {
      file: "c.ndjson",
      mode: "capture",
      onFinding: (f) => findings.push(f),
    });
    const text = report(formats[0]![1], findings, "c.ndjson");
    expect(text).toContain("reply to 7\\u000a::error::x");
    expect(text).toContain("id a\\u2028b");
    const json = JSON.parse(report(formats[1]![1], findings, "c.ndjson")) as { findings: Finding[] };
    expect(json.findings.map((f) => f.id)).toContain("a\u2028b");
  });
});
