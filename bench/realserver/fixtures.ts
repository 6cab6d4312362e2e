/**
 * Writes the derived files of test/fixtures/real-server-latest/ from its captures (run after new captures):
 * - commands.json: per capture, the commands its client started and the server pushes it received;
 * - invalid-frames.json: real frames from the captures made invalid on purpose, each with the findings
 *   `openflow-spec validate` must report for it.
 *
 *   npx tsx bench/realserver/fixtures.ts
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const DIR = join(import.meta.dirname, "../../test/fixtures/real-server-latest");
interface Line { conn?: string; dir: "c2s" | "s2c"; frame: Record<string, unknown> }
const captures = readdirSync(DIR).filter((f) => f.endsWith(".ndjson")).sort();
const read = (file: string): Line[] => readFileSync(join(DIR, file), "utf8").split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as Line).filter((l) => l.frame);

/**
 * Commands a capture exercises, by lower-cased name: requests its client started, pushes the server started, and
 * the commands of replies (`error`, `pong`, ...). test/real-server-latest.test.ts computes the same from the captures.
 */
export function exercised(lines: Line[]): { client: string[]; server: string[]; replies: string[] } {
  const client = new Set<string>();
  const server = new Set<string>();
  const replies = new Set<string>();
  for (const l of lines) {
    const command = String(l.frame["command"]).toLowerCase();
    if (l.frame["replyto"]) replies.add(command);
    else (l.dir === "c2s" ? client : server).add(command);
  }
  return { client: [...client].sort(), server: [...server].sort(), replies: [...replies].sort() };
}

const commands: Record<string, { client: string[]; server: string[]; replies: string[] }> = {};
for (const f of captures) commands[f] = exercised(read(f));
const all = new Set(Object.values(commands).flatMap((c) => [...c.client, ...c.server, ...c.replies]));
writeFileSync(join(DIR, "commands.json"), `${JSON.stringify({ all: [...all].sort(), byCapture: commands }, null, 2)}\n`);

// Invalid on purpose: a real request/reply pair (or push) from the flows capture, changed in one way each.
const flows = read("ours-flows-25000.ndjson");
const pair = (command: string): [Line, Line] => {
  const req = flows.find((l) => l.dir === "c2s" && l.frame["command"] === command && !l.frame["replyto"] && l.frame["count"] === 1);
  const rep = req && flows.find((l) => l.dir === "s2c" && l.frame["replyto"] === req.frame["id"]);
  if (!req || !rep) throw new Error(`no ${command} pair in the flows capture`);
  return [req, rep];
};
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const withFrame = (l: Line, change: (f: Record<string, unknown>) => void): Line => {
  const c = clone(l);
  change(c.frame);
  return c;
};
const withPayload = (l: Line, change: (p: Record<string, unknown>) => void): Line =>
  withFrame(l, (f) => {
    const p = JSON.parse(String(f["data"])) as Record<string, unknown>;
    change(p);
    f["data"] = JSON.stringify(p);
  });
const [qReq, qRep] = pair("query");
const [cReq, cRep] = pair("count");
const [iReq, iRep] = pair("insertone");
const cases = [
  { why: "count sent as a numeric string (quirk Q1)", lines: [withFrame(qReq, (f) => void (f["count"] = "1")), qRep], expect: ["count-string"] },
  { why: "a query reply whose result is not an array", lines: [qReq, withPayload(qRep, (p) => void (p["result"] = { not: "an array" }))], expect: ["payload-invalid"] },
  { why: "a count reply whose result is a string", lines: [cReq, withPayload(cRep, (p) => void (p["result"] = "3"))], expect: ["payload-invalid"] },
  { why: "a request whose data is not JSON text", lines: [withFrame(iReq, (f) => void (f["data"] = "{not json")), iRep], expect: ["data-not-json"] },
  { why: "a command the spec does not know", lines: [withFrame(qReq, (f) => void (f["command"] = "nosuchcommand")), withFrame(qRep, (f) => void (f["command"] = "nosuchcommand"))], expect: ["unknown-command"] },
  { why: "a reply that answers no request", lines: [withFrame(qRep, (f) => void (f["replyto"] = "no-such-request"))], expect: ["unknown-reply"] },
  { why: "a request left unanswered", lines: [cReq], expect: ["unanswered-request"] },
  { why: "a reply with another command than the request's", lines: [qReq, withFrame(qRep, (f) => void (f["command"] = "count"))], expect: ["reply-command-mismatch", "payload-invalid"] },
  { why: "a misspelt request field (tpo for top)", lines: [withPayload(qReq, (p) => { p["tpo"] = p["top"]; delete p["top"]; }), qRep], expect: ["unknown-request-field"] },
  { why: "chunk index beyond count", lines: [withFrame(iReq, (f) => { f["count"] = 2; f["index"] = 2; })], expect: ["index-out-of-range"] },
];
writeFileSync(join(DIR, "invalid-frames.json"), `${JSON.stringify(cases, null, 2)}\n`);
process.stdout.write(`${all.size} commands exercised; ${cases.length} invalid cases\n`);
