/**
 * Benchmark of the streaming capture validator: generate a large capture (default 128 MB) with a realistic mix of
 * traffic into a temp file, validate it with `validateInput` (what `openflow-spec validate` runs), and print
 * frames/s, MB/s and peak RSS. Target: >= 50 MB/s.
 *
 *   npx tsx bench/validate.ts [--mb 128] [--small] [--keep]
 */
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { encodeMessage } from "../runtime/framing.js";
import { validateInput } from "../validator/run.js";

const args = process.argv.slice(2);
const targetMb = Number(args[args.indexOf("--mb") + 1] ?? "128") || 128;
const keep = args.includes("--keep");
/** default: realistic mix (3% of queries return 150-350 documents); small: only small frames (worst case per MB). */
const mix = args.includes("--small") ? "small" : "default";

// Deterministic PRNG (mulberry32) so every run validates the same bytes.
let seed = 0x5eed;
function rand(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
let idCounter = 0;
const newId = (): string => (++idCounter).toString(36).padStart(9, "0");
const hex = (n: number): string => Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join("");

const names = ["invoice", "order", "robot run", "customer", "ticket", "shipment", "payment", "workitem"];
function entity(): Record<string, unknown> {
  const id = hex(24);
  return {
    _id: id,
    _type: pick(["test", "invoice", "order", "robot"]),
    name: `${pick(names)} ${Math.floor(rand() * 100000)}`,
    amount: Math.round(rand() * 100000) / 100,
    tags: Array.from({ length: 1 + Math.floor(rand() * 4) }, () => pick(names)),
    note: "Lorem ipsum dolor sit amet, consectetur adipiscing elit ".repeat(1 + Math.floor(rand() * 4)),
    _acl: [
      { _id: "5a1702fa245d9013697656fb", name: "admins", rights: 65535, deny: false },
      { _id: hex(24), name: "alice", rights: 65535, deny: false },
    ],
    _created: "2025-01-02T10:00:00.000Z",
    _createdby: "alice",
    _createdbyid: "65a1f0c2e4b0a1b2c3d4e5f0",
    _modified: "2025-01-02T10:00:00.000Z",
    _modifiedby: "alice",
    _modifiedbyid: "65a1f0c2e4b0a1b2c3d4e5f0",
    _version: Math.floor(rand() * 5),
  };
}

type Dir = "c2s" | "s2c";
function lines(dir: Dir, id: string, command: string, payload: unknown, replyto?: string, chunk = 25_000): string[] {
  const frames = encodeMessage({ id, command, replyto, data: payload === undefined ? undefined : JSON.stringify(payload), priority: dir === "c2s" ? 2 : 1 }, chunk);
  return frames.map((frame) => JSON.stringify({ dir, frame }));
}

/** One exchange of a realistic session: mostly small request/reply pairs, some large chunked replies, pushes. */
function exchange(): string[] {
  const r = rand();
  const req = newId();
  const rep = newId();
  if (r < 0.35) {
    const request = { priority: 2, decrypt: true, top: 100, skip: 0, collectionname: "entities", query: JSON.stringify({ _type: "test", name: { $regex: "^inv" } }) };
    const n = mix === "default" && rand() < 0.03 ? 150 + Math.floor(rand() * 200) : Math.floor(rand() * 8);
    const reply = { priority: 2, decrypt: true, top: 100, skip: 0, collectionname: "entities", result: Array.from({ length: n }, entity) };
    // api-latest chunks at 500 before signin tells it better; servers at 25000.
    return [...lines("c2s", req, "query", request, undefined, rand() < 0.2 ? 500 : 25_000), ...lines("s2c", rep, "query", reply, req)];
  }
  if (r < 0.55) {
    const item = entity();
    const request = { priority: 2, decrypt: true, w: 1, j: true, collectionname: "entities", item: { _type: item["_type"], name: item["name"], amount: item["amount"] } };
    return [...lines("c2s", req, "insertone", request), ...lines("s2c", rep, "insertone", { ...request, result: item }, req)];
  }
  if (r < 0.7) {
    const doc = entity();
    const event = { id: hex(9), result: { operationType: "update", documentKey: { _id: doc["_id"] }, fullDocument: doc, ns: { db: "openflow", coll: "entities" } } };
    return lines("s2c", req, "watchevent", event);
  }
  if (r < 0.85) {
    const delivery = { queuename: "nodered.x1c9a2b3d", data: { invoice: `INV-${Math.floor(rand() * 9999)}`, lines: Array.from({ length: 3 }, entity) }, replyto: "", correlationId: hex(9), consumerTag: "amq.ctag-Yl7mZb2u1kBq9w", routingkey: "nodered.x1c9a2b3d", exchangename: "" };
    return [...lines("s2c", req, "queuemessage", delivery), ...lines("c2s", rep, "queuemessage", delivery, req)];
  }
  if (r < 0.95) {
    const request = { priority: 2, collectionname: "entities", query: JSON.stringify({ _type: "test" }) };
    return [...lines("c2s", req, "count", request), ...lines("s2c", rep, "count", { ...request, result: Math.floor(rand() * 1000) }, req)];
  }
  return [JSON.stringify({ dir: "c2s", frame: { priority: 5, count: 1, index: 0, id: req, replyto: null, command: "ping", data: null } })];
}

async function generate(path: string, bytes: number): Promise<{ lines: number }> {
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  let written = 0;
  let count = 0;
  let batch: string[] = [];
  let batchChars = 0;
  while (written < bytes) {
    for (const line of exchange()) {
      batch.push(line);
      batchChars += line.length + 1;
      count++;
    }
    if (batchChars > 1 << 20) {
      const text = `${batch.join("\n")}\n`;
      written += Buffer.byteLength(text);
      if (!out.write(text)) await once(out, "drain");
      batch = [];
      batchChars = 0;
    }
  }
  if (batch.length > 0) out.write(`${batch.join("\n")}\n`);
  out.end();
  await once(out, "finish");
  return { lines: count };
}

interface Measured {
  seconds: number;
  frames: number;
  messages: number;
  errors: number;
  warnings: number;
  /** Peak resident set size of the validating process, bytes. */
  maxRss: number;
  rssBefore: number;
  sample: string[];
}

/** Validate `path` in this process and return the measurements (run in a fresh child so RSS is the validator's). */
async function measure(path: string): Promise<Measured> {
  const rssBefore = process.memoryUsage().rss;
  const sample: string[] = [];
  const t0 = performance.now();
  const summary = await validateInput(createReadStream(path, { highWaterMark: 1 << 20 }), {
    file: path,
    mode: "capture",
    onFinding: (f) => {
      if (sample.length < 10) sample.push(`${f.code} line ${f.line}: ${f.message}`);
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  // maxRSS is in kilobytes.
  const maxRss = process.resourceUsage().maxRSS * 1024;
  return { seconds, frames: summary.frames, messages: summary.messages, errors: summary.errors, warnings: summary.warnings, maxRss, rssBefore, sample };
}

async function main(): Promise<void> {
  const measureIndex = args.indexOf("--measure");
  if (measureIndex >= 0) {
    process.stdout.write(JSON.stringify(await measure(args[measureIndex + 1] as string)));
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "bench-validate-"));
  const path = join(dir, "capture.ndjson");
  try {
    const g0 = performance.now();
    const { lines: lineCount } = await generate(path, targetMb * 1024 * 1024);
    const size = statSync(path).size;
    process.stdout.write(`generated ${(size / 1048576).toFixed(1)} MB (${mix} mix), ${lineCount} lines in ${((performance.now() - g0) / 1000).toFixed(1)} s\n`);

    // A fresh process (same tsx loader flags) so peak RSS belongs to the validation alone.
    const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), "--measure", path], { encoding: "utf8", maxBuffer: 1 << 20, timeout: 600_000 });
    if (child.status !== 0) throw new Error(`measuring child failed (${child.status}): ${child.stderr}`);
    const m = JSON.parse(child.stdout) as Measured;
    const mbps = size / 1048576 / m.seconds;
    process.stdout.write(
      [
        `validated ${m.frames} frames, ${m.messages} messages in ${m.seconds.toFixed(2)} s`,
        `  ${Math.round(m.frames / m.seconds).toLocaleString("en-US")} frames/s, ${mbps.toFixed(1)} MB/s (target >= 50 MB/s: ${mbps >= 50 ? "met" : "NOT met"})`,
        `  peak RSS ${(m.maxRss / 1048576).toFixed(0)} MB (${(m.rssBefore / 1048576).toFixed(0)} MB before reading; capture ${(size / 1048576).toFixed(0)} MB)`,
        `  findings: ${m.errors} errors, ${m.warnings} warnings (a generated capture should have none)`,
        ...m.sample.map((line) => `    ${line}`),
        "",
      ].join("\n"),
    );
    if (m.errors > 0) process.exitCode = 1;
  } finally {
    if (keep) process.stdout.write(`kept ${path}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

await main();
