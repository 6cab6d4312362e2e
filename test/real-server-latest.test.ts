/**
 * Traffic recorded from the real OpenFlow server-latest (test/fixtures/real-server-latest/README.md says how):
 * the spec must accept every frame the real server sent and every well-formed client frame, and must flag real
 * frames made invalid on purpose with the findings listed for them.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { findingCodes, type Finding } from "../validator/findings.js";
import { validateInput } from "../validator/run.js";
import { ROOT } from "./fixtures/generator/helpers.js";

const DIR = join(ROOT, "test/fixtures/real-server-latest");
const captures = readdirSync(DIR).filter((f) => f.endsWith(".ndjson")).sort();

interface Line {
  dir: "c2s" | "s2c";
  frame: Record<string, unknown>;
}

async function findingsOf(text: string, file: string): Promise<Finding[]> {
  const findings: Finding[] = [];
  await validateInput(Readable.from([text]), { file, mode: "capture", onFinding: (f) => void findings.push(f) });
  return findings;
}

const read = (file: string): string => readFileSync(join(DIR, file), "utf8");
const lines = (file: string): Line[] =>
  read(file)
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Line)
    .filter((l) => l.frame !== undefined);

/** What each capture may be flagged for: real client behaviour, never a server frame. */
const ALLOWED: Record<string, { codes: string[]; why: string }> = {
  "official-25000.ndjson": { codes: ["command-case"], why: "api-latest sends Insertorupdatemany with a capital I (Q13)" },
  "official-4096.ndjson": { codes: ["command-case"], why: "api-latest sends Insertorupdatemany with a capital I (Q13)" },
  "ours-examples-25000.ndjson": { codes: ["unknown-request-field", "deprecated-command"], why: "the spec's examples record what real clients send, deprecated commands included" },
  // openflow-spec fuzz sends invalid requests on purpose; only the server's frames must be clean.
  "fuzz-4096.ndjson": { codes: Object.keys(findingCodes), why: "the fuzzer's invalid input" },
};

describe("captures of the real server-latest", () => {
  it("has the captures the README lists, at both package sizes", () => {
    expect(captures).toEqual(expect.arrayContaining(["ours-flows-25000.ndjson", "ours-flows-4096.ndjson", "ours-examples-25000.ndjson", "ours-pushes-4096.ndjson", "official-25000.ndjson", "official-4096.ndjson", "official-suite-4096.ndjson"]));
    const sizes = (file: string) => new Set(lines(file).flatMap((l) => (l.frame["command"] === "signin" && l.dir === "s2c" ? [JSON.parse(String(l.frame["data"])).websocket_package_size] : [])));
    expect(sizes("ours-flows-25000.ndjson")).toEqual(new Set([25000]));
    expect(sizes("ours-flows-4096.ndjson")).toEqual(new Set([4096]));
    // Every capture's name says the package size its signin replies announced.
    for (const file of captures) {
      const named = /-(\d+)\.ndjson$/.exec(file)?.[1];
      const announced = sizes(file);
      if (announced.size > 0) expect(announced, file).toEqual(new Set([Number(named)]));
    }
    // At 4096 the 60 000-character document travels in chunks both ways.
    const chunked = lines("ours-flows-4096.ndjson").filter((l) => typeof l.frame["count"] === "number" && (l.frame["count"] as number) > 1);
    expect(new Set(chunked.map((l) => l.dir))).toEqual(new Set(["c2s", "s2c"]));
  });

  it.each(captures)("%s: no finding on a server frame; client findings only of the kinds listed for it", async (file) => {
    const findings = await findingsOf(read(file), file);
    expect(findings.filter((f) => f.dir !== "c2s").map((f) => `${f.code}: ${f.message}`)).toEqual([]);
    const allowed = ALLOWED[file]?.codes ?? [];
    expect(findings.filter((f) => !allowed.includes(f.code)).map((f) => `${f.line}: ${f.code}: ${f.message}`)).toEqual([]);
  });

  it("the official client's frames are flagged only for its capital-I command (Q13)", async () => {
    const findings = await findingsOf(read("official-25000.ndjson"), "official-25000.ndjson");
    expect(findings.map((f) => f.command)).toEqual(["Insertorupdatemany"]);
  });

  it("commands.json lists exactly the commands the captures exercise", () => {
    const listed = JSON.parse(read("commands.json")) as { all: string[]; byCapture: Record<string, { client: string[]; server: string[]; replies: string[] }> };
    const all = new Set<string>();
    for (const file of captures) {
      const client = new Set<string>();
      const server = new Set<string>();
      const replies = new Set<string>();
      for (const l of lines(file)) {
        const command = String(l.frame["command"]).toLowerCase();
        if (l.frame["replyto"]) replies.add(command);
        else (l.dir === "c2s" ? client : server).add(command);
      }
      expect(listed.byCapture[file], file).toEqual({ client: [...client].sort(), server: [...server].sort(), replies: [...replies].sort() });
      for (const c of [...client, ...server, ...replies]) all.add(c);
    }
    expect(listed.all).toEqual([...all].sort());
    // Every client-started command server-latest answers was sent at least once.
    for (const file of readdirSync(join(ROOT, "schemas/commands"))) {
      const doc = JSON.parse(readFileSync(join(ROOT, "schemas/commands", file), "utf8")) as { "x-openflow": { command: string; direction: string; implementations: Record<string, string[]> } };
      const x = doc["x-openflow"];
      if (x.direction === "c2s" && (x.implementations["server-latest"] ?? []).some((m) => m === "yes")) expect(listed.all, x.command).toContain(x.command);
    }
  });

  it("real frames made invalid on purpose produce the findings listed for them", async () => {
    const cases = JSON.parse(read("invalid-frames.json")) as { why: string; lines: Line[]; expect: string[] }[];
    expect(cases.length).toBeGreaterThanOrEqual(10);
    for (const c of cases) {
      const findings = await findingsOf(c.lines.map((l) => JSON.stringify(l)).join("\n") + "\n", c.why);
      expect(findings.map((f) => f.code), c.why).toEqual(c.expect);
    }
  });
});
