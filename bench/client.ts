/**
 * Client benchmark: this runtime vs the official `@openiap/openflow-api` client vs a bare `ws` client that does
 * only id correlation and linear reassembly (the physical limit), all against the project server
 * (`startServer`, run in this parent process). Every (client, scenario) runs in its own child process, so the
 * clients never share a heap and peak memory is per scenario.
 *
 *   npx tsx bench/client.ts            full run (a few minutes)
 *   npx tsx bench/client.ts --quick    fewer iterations (smoke)
 *   npx tsx bench/client.ts --only seq,par,reply5,reply20,upload5   a subset of scenarios
 *   npx tsx bench/client.ts --server project|echo|both              which server (default both)
 *   npx tsx bench/client.ts --rounds 5                              interleaved bare/ours rounds (default 3; medians)
 *   npx tsx bench/client.ts --no-official                           bare and ours only (while iterating)
 *   npx tsx bench/client.ts --chunks 500,4096                       package sizes (default 25000,4096,500)
 *
 * Two servers: the project server (what users run against; it is usually the bottleneck, so the clients'
 * differences shrink) and a minimal server in its own process with precomputed replies (the client is the
 * bottleneck, so this table shows client overhead).
 *
 * The official client is slow by design (a 10 ms timer before every send, quadratic reassembly): its scenarios
 * run fewer iterations and the figure is scaled; the table says where.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startServer } from "../server/index.js";
import { connect } from "../runtime/index.js";

type ClientName = "ours" | "official" | "bare";
type ScenarioName = "seq" | "par" | "reply5" | "reply20" | "upload5";

interface Job {
  client: ClientName;
  scenario: ScenarioName;
  chunk: number;
  /** Operations to run in the child. */
  ops: number;
  /** Factor to scale the measured ms by (official caps), 1 = measured as is. */
  scale: number;
  note?: string;
  /** Warm-up operations before timing (default 1). */
  warm?: number;
}

interface Result {
  ms: number;
  /** CPU time of the client process (user + system) for the same work: steadier than wall time on a shared box. */
  cpuMs: number;
  ops: number;
  bytes: number;
  peakRssMb: number;
  baseRssMb: number;
}

const USER = { username: "bench", password: "bench-password" };
const MB = 1_000_000;
const here = fileURLToPath(import.meta.url);

// ------------------------------------------------------------------------------------------ child side

interface Driver {
  /** One small request; resolves when its reply arrived. */
  small(id: string): Promise<void>;
  /** Query one document by id; returns the length of its blob. */
  fetchBlob(id: string): Promise<number>;
  /** Insert a document with a blob of `size` chars; returns its _id. */
  upload(size: number): Promise<string>;
  /** Delete a document (untimed clean-up, so the server heap does not grow between runs). */
  remove(id: string): Promise<void>;
  close(): void;
}

async function oursDriver(url: string): Promise<Driver> {
  const client = await connect(url, { ...USER, timeoutMs: 600_000, logLevel: "error" });
  return {
    small: async (id) => {
      await client.query({ collectionname: "bench", query: { _id: id }, top: 1 });
    },
    fetchBlob: async (id) => {
      const reply = (await client.query({ collectionname: "bench", query: { _id: id }, top: 1 })) as { result: { blob: string }[] };
      return reply.result[0]?.blob.length ?? -1;
    },
    upload: async (size) => {
      const reply = await client.insertOne({ collectionname: "bench", item: { _type: "upload", name: "u", blob: "u".repeat(size) } });
      return String((reply.result as { _id?: unknown } | undefined)?._id);
    },
    remove: async (id) => {
      await client.deleteOne({ collectionname: "bench", id });
    },
    close: () => client.close(),
  };
}

async function officialDriver(url: string): Promise<Driver> {
  const api = (await import("@openiap/openflow-api")) as unknown as {
    default?: Record<string, unknown>;
  } & Record<string, unknown>;
  const lib = (api.WebSocketClient ? api : api.default) as {
    WebSocketClient: (new (logger: unknown, url: string, skip?: boolean) => { Connect(): Promise<void>; close(code: number, reason: string): void }) & { instance: unknown };
    NoderedUtil: Record<string, (options: Record<string, unknown>) => Promise<unknown>>;
  };
  const quiet = { info() {}, verbose() {}, error() {}, debug() {}, silly() {} };
  const ws = new lib.WebSocketClient(quiet, url, true);
  await ws.Connect();
  // InsertOne/DeleteOne serialize the `websocket` option into the payload (circular JSON): use the singleton.
  lib.WebSocketClient.instance = ws;
  const util = lib.NoderedUtil;
  await util.SigninWithUsername!({ ...USER, websocket: ws });
  return {
    small: async (id) => {
      await util.Query!({ collectionname: "bench", query: { _id: id }, top: 1, websocket: ws });
    },
    fetchBlob: async (id) => {
      const result = (await util.Query!({ collectionname: "bench", query: { _id: id }, top: 1, websocket: ws })) as { blob: string }[];
      return result[0]?.blob.length ?? -1;
    },
    upload: async (size) => {
      const result = (await util.InsertOne!({ collectionname: "bench", item: { _type: "upload", name: "u", blob: "u".repeat(size) } })) as { _id: string };
      return result._id;
    },
    remove: async (id) => {
      await util.DeleteOne!({ collectionname: "bench", id });
    },
    close: () => ws.close(1000, "done"),
  };
}

/** The physical limit: JSON frames, id correlation, linear reassembly, nothing else. */
async function bareDriver(url: string): Promise<Driver> {
  const { WebSocket } = await import("ws");
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  let seq = 0;
  let chunk = 25_000;
  const pending = new Map<string, (data: string) => void>();
  const partial = new Map<string, { pieces: string[]; got: number }>();
  ws.on("message", (raw) => {
    const f = JSON.parse(raw.toString()) as { id: string; replyto?: string; data?: string; count?: number; index?: number };
    const count = f.count ?? 1;
    let data = f.data ?? "";
    if (count > 1) {
      let p = partial.get(f.id);
      if (!p) partial.set(f.id, (p = { pieces: new Array<string>(count), got: 0 }));
      p.pieces[f.index ?? 0] = data;
      if (++p.got < count) return;
      partial.delete(f.id);
      data = p.pieces.join("");
    }
    const cb = f.replyto ? pending.get(f.replyto) : undefined;
    if (cb) {
      pending.delete(f.replyto as string);
      cb(data);
    }
  });
  const request = (command: string, payload: unknown) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const id = `b${++seq}`;
      const data = JSON.stringify(payload);
      pending.set(id, (text) => resolve(JSON.parse(text) as Record<string, unknown>));
      const count = Math.max(1, Math.ceil(data.length / chunk));
      for (let i = 0; i < count; i++) ws.send(JSON.stringify({ id, command, data: data.slice(i * chunk, (i + 1) * chunk), count, index: i }));
    });
  const signin = await request("signin", USER);
  if (typeof signin.websocket_package_size === "number") chunk = signin.websocket_package_size;
  return {
    small: async (id) => {
      await request("query", { collectionname: "bench", query: { _id: id }, top: 1 });
    },
    fetchBlob: async (id) => {
      const reply = (await request("query", { collectionname: "bench", query: { _id: id }, top: 1 })) as { result: { blob: string }[] };
      return reply.result[0]?.blob.length ?? -1;
    },
    upload: async (size) => {
      const reply = (await request("insertone", { collectionname: "bench", item: { _type: "upload", name: "u", blob: "u".repeat(size) } })) as { result: { _id: string } };
      return reply.result._id;
    },
    remove: async (id) => {
      await request("deleteone", { collectionname: "bench", id });
    },
    close: () => ws.close(),
  };
}

async function child(args: string[]): Promise<void> {
  const [client, scenario, url, opsText, smallId, blob5, blob20] = args as [ClientName, ScenarioName, string, string, string, string, string];
  const ops = Number(opsText);
  const driver = client === "ours" ? await oursDriver(url) : client === "official" ? await officialDriver(url) : await bareDriver(url);
  // Warm-up: the same kind of operation (JIT, buffers), so short scenarios measure steady state.
  const warm = Number(args[7] ?? "1");
  for (let i = 0; i < warm; i++) {
    if (scenario === "seq" || scenario === "par") for (let j = 0; j < 50; j++) await driver.small(smallId);
    else if (scenario === "upload5") await driver.remove(await driver.upload(5 * MB));
    else await driver.fetchBlob(blob5);
  }
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
  gc();
  const base = process.memoryUsage.rss();
  let peak = base;
  // Sample memory only where it is reported (it costs a little CPU, the same for every client): large scenarios.
  const sampler = setInterval(() => {
    if (scenario !== "seq" && scenario !== "par") peak = Math.max(peak, process.memoryUsage.rss());
  }, 2);
  let bytes = 0;
  let ms: number;
  let cpuMs: number;
  const cpuSince = (start: NodeJS.CpuUsage) => {
    const used = process.cpuUsage(start);
    return (used.user + used.system) / 1000;
  };
  if (scenario === "seq" || scenario === "par") {
    const cpu = process.cpuUsage();
    const start = performance.now();
    if (scenario === "seq") {
      for (let i = 0; i < ops; i++) await driver.small(smallId);
    } else {
      let next = 0;
      const worker = async () => {
        while (next < ops) {
          next += 1;
          await driver.small(smallId);
        }
      };
      await Promise.all(Array.from({ length: 100 }, worker));
    }
    ms = performance.now() - start;
    cpuMs = cpuSince(cpu);
  } else {
    // Large scenarios: `ops` separate timed operations, the best one counts (GC and server noise only ever add).
    const times: number[] = [];
    const cpus: number[] = [];
    const want = scenario === "reply20" ? 20 * MB : 5 * MB;
    for (let i = 0; i < ops; i++) {
      gc();
      const cpu = process.cpuUsage();
      const start = performance.now();
      if (scenario === "upload5") {
        const id = await driver.upload(5 * MB);
        times.push(performance.now() - start);
        cpus.push(cpuSince(cpu));
        await driver.remove(id);
      } else {
        const length = await driver.fetchBlob(scenario === "reply5" ? blob5 : blob20);
        times.push(performance.now() - start);
        cpus.push(cpuSince(cpu));
        if (length !== want) throw new Error(`${client}: blob of ${length} chars, want ${want}`);
      }
    }
    bytes = want;
    ms = Math.min(...times);
    cpuMs = Math.min(...cpus);
  }
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage.rss());
  driver.close();
  const result: Result = { ms, cpuMs, ops, bytes, peakRssMb: (peak - base) / MB, baseRssMb: base / MB };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  process.exit(0);
}

// ------------------------------------------------------------------------------------------ minimal server

/**
 * `--echo-server <chunk>`: a minimal OpenFlow peer in its own process, so the client is the bottleneck:
 * signin, and precomputed replies for `query` (by `_id`: small, blob5, blob20), `insertone` and `deleteone`.
 * It reassembles linearly and sends replies chunked at <chunk>, like the real server.
 */
async function echoServer(chunkText: string): Promise<void> {
  const chunk = Number(chunkText);
  const { WebSocketServer } = await import("ws");
  const { encodeMessageText, newFrameId, parseFrame, Reassembler } = await import("../runtime/framing.js");
  const blobs: Record<string, string> = {
    small: JSON.stringify({ result: [{ _id: "small", _type: "blob", name: "small", blob: "b".repeat(10) }] }),
    blob5: JSON.stringify({ result: [{ _id: "blob5", _type: "blob", name: "blob5", blob: "b".repeat(5 * MB) }] }),
    blob20: JSON.stringify({ result: [{ _id: "blob20", _type: "blob", name: "blob20", blob: "b".repeat(20 * MB) }] }),
  };
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, maxPayload: 256 * MB });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  wss.on("connection", (ws) => {
    const reassembler = new Reassembler({ maxMessageChars: 64 * MB });
    const reply = (to: { id: string; command: string }, data: string) => {
      for (const text of encodeMessageText({ id: newFrameId(), replyto: to.id, command: to.command, data }, chunk)) ws.send(text);
    };
    ws.on("message", (raw) => {
      const done = reassembler.push(parseFrame(raw.toString()), 0);
      if (!done.done) return;
      const m = done.message;
      if (m.replyto || m.command === "ping" || m.command === "pong") return;
      const p = (m.data ? JSON.parse(m.data) : {}) as { query?: unknown };
      if (m.command === "signin") reply(m, JSON.stringify({ jwt: "bench.jwt.token", user: { _id: "u", name: "bench" }, websocket_package_size: chunk }));
      else if (m.command === "query") {
        const q = (typeof p.query === "string" ? JSON.parse(p.query) : p.query) as { _id?: string } | undefined;
        reply(m, blobs[q?._id ?? "small"] ?? blobs.small!);
      } else if (m.command === "insertone") reply(m, JSON.stringify({ result: { _id: "upload" } }));
      else reply(m, "{}");
    });
  });
  process.stdout.write(`URL ws://127.0.0.1:${(wss.address() as { port: number }).port}/\n`);
}

function spawnEchoServer(chunk: number): Promise<{ url: string; close(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ["--import", "tsx", here, "--echo-server", String(chunk)], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error("echo server did not start within 30 s"));
    }, 30_000);
    proc.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const match = /URL (\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({
          url: match[1] as string,
          close: () =>
            new Promise<void>((done) => {
              proc.once("exit", () => done());
              proc.kill("SIGTERM");
            }),
        });
      }
    });
  });
}

// ------------------------------------------------------------------------------------------ parent side

function runChild(job: Job, url: string, ids: { small: string; blob5: string; blob20: string }, timeoutMs: number): Promise<Result | string> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ["--import", "tsx", "--expose-gc", here, "--child", job.client, job.scenario, url, String(job.ops), ids.small, ids.blob5, ids.blob20, String(job.warm ?? 1)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    proc.stdout.on("data", (d: Buffer) => (out += d.toString()));
    proc.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
    proc.on("exit", (code, signal) => {
      clearTimeout(timer);
      const line = out.split("\n").find((l) => l.startsWith("RESULT "));
      if (line) resolve(JSON.parse(line.slice(7)) as Result);
      else resolve(signal === "SIGKILL" ? `killed after ${timeoutMs / 1000} s` : `exit ${code}: ${err.trim().split("\n").slice(-2).join(" ")}`);
    });
  });
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

interface Cell {
  value: number;
  /** Client CPU ms for the measured work. */
  cpuMs: number;
  note?: string;
  mem?: number;
}

interface Row {
  label: string;
  unit: string;
  /** Every measured figure per client, in round order (bare and ours interleaved round by round). */
  cells: Record<ClientName, Cell[]>;
  failures: Partial<Record<ClientName, string>>;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Time ratio client/bare per round (paired: each round runs bare then ours back to back), then the median. */
function pairedRatio(row: Row, client: ClientName): number | undefined {
  const bare = row.cells.bare;
  const other = row.cells[client];
  const n = Math.min(bare.length, other.length);
  if (n === 0) return undefined;
  if (client === "official") return median(bare.map((c) => c.value)) / median(other.map((c) => c.value));
  return median(Array.from({ length: n }, (_, i) => (bare[i] as Cell).value / (other[i] as Cell).value));
}

/** Client CPU time ratio ours/bare: median over rounds of the paired ratio. */
function cpuRatio(row: Row): number | undefined {
  const n = Math.min(row.cells.bare.length, row.cells.ours.length);
  if (n === 0) return undefined;
  return median(Array.from({ length: n }, (_, i) => (row.cells.ours[i] as Cell).cpuMs / (row.cells.bare[i] as Cell).cpuMs));
}

function memRatio(row: Row): number | undefined {
  const bare = row.cells.bare.filter((c) => c.mem !== undefined).map((c) => c.mem as number);
  const ours = row.cells.ours.filter((c) => c.mem !== undefined).map((c) => c.mem as number);
  if (bare.length === 0 || ours.length === 0) return undefined;
  return median(ours) / median(bare);
}

/** Targets for ours against bare (issue 16): time and peak RSS growth. */
const TIME_TARGET = 1.1;
const MEM_TARGET = 1.2;

async function parent(mode: "project" | "echo", quick: boolean, only: string[], rounds: number, skipOfficial: boolean, onlyChunks: number[]): Promise<void> {
  process.stdout.write(
    mode === "project"
      ? "\n## Against the project server (startServer, validation off; the server is usually the bottleneck)\n"
      : "\n## Against a minimal server in its own process (precomputed replies; the client is the bottleneck)\n",
  );
  // Long enough (2-3 s per child) that one preemption on a shared box does not decide the ratio.
  const seqOps = quick ? 300 : 10_000;
  const parOps = quick ? 500 : 20_000;
  const chunks = onlyChunks.length > 0 ? onlyChunks : only.length > 0 && !only.some((o) => o !== "seq" && o !== "par") ? [25_000] : [25_000, 4096, 500];
  const rows: Row[] = [];
  const started = Date.now();

  for (const chunk of chunks) {
    let server: { url: string; close(): Promise<void> };
    let ids: { small: string; blob5: string; blob20: string };
    if (mode === "project") {
      server = await startServer({ users: [{ ...USER, roles: ["admins"] }], validate: false, packageSize: chunk, limits: { maxMessageChars: 64 * MB, maxChunks: 1_000_000, maxFrameBytes: 256 * MB } });
      const seed = await connect(server.url, { ...USER, timeoutMs: 120_000, logLevel: "error" });
      const ins = async (name: string, size: number) =>
        ((await seed.insertOne({ collectionname: "bench", item: { _type: "blob", name, blob: "b".repeat(size) } })) as { result: { _id: string } }).result._id;
      ids = { small: await ins("small", 10), blob5: await ins("blob5", 5 * MB), blob20: await ins("blob20", 20 * MB) };
      seed.close();
    } else {
      server = await spawnEchoServer(chunk);
      ids = { small: "small", blob5: "blob5", blob20: "blob20" };
    }
    try {
      const jobs: Job[] = [];
      const scenarios = (chunk === chunks[0] ? ["seq", "par", "reply5", "reply20", "upload5"] : ["reply5", "reply20", "upload5"]) as ScenarioName[];
      for (const scenario of scenarios.filter((s) => only.length === 0 || only.includes(s))) {
        const isSmall = scenario === "seq" || scenario === "par";
        // More repetitions against the fast minimal server, where one operation takes a fraction of a second.
        const largeOps = quick ? 1 : mode === "echo" ? (scenario === "reply20" ? 3 : 5) : scenario === "reply20" ? 2 : 3;
        const ops = scenario === "seq" ? seqOps : scenario === "par" ? parOps : largeOps;
        // `rounds` interleaved rounds of bare then ours (the median counts), then the slow official client once.
        for (let round = 0; round < rounds; round++) {
          for (const client of ["bare", "ours"] as const) jobs.push({ client, scenario, chunk, ops, scale: 1 });
        }
        if (skipOfficial) continue;
        if (isSmall) {
          const capped = Math.min(ops, scenario === "seq" ? 200 : 500);
          jobs.push({ client: "official", scenario, chunk, ops: capped, scale: ops / capped, note: `${capped} run, scaled` });
          continue;
        }
        const job: Job = { client: "official", scenario, chunk, ops, scale: 1 };
        if (chunk === 500) {
          // Seconds per operation at 500-char chunks: one timed run, no warm-up.
          job.ops = 1;
          job.warm = 0;
          job.note = "1 run, no warm-up";
          // 20 MB in 500-char chunks takes the official client about a minute (quadratic): measure 5 MB, scale x4.
          if (scenario === "reply20") {
            job.scenario = "reply5";
            job.scale = 4;
            job.note = "5 MB run, x4; understates its quadratic cost";
          }
        }
        jobs.push(job);
      }

      for (const job of jobs) {
        const result = await runChild(job, server.url, ids, 180_000);
        const isSmall = job.scenario === "seq" || job.scenario === "par";
        const label = isSmall
          ? job.scenario === "seq"
            ? `${fmt(seqOps)} sequential round trips`
            : `${fmt(parOps)} requests, 100 in flight`
          : `${job.scenario === "upload5" ? "5 MB upload" : job.note && job.scale === 4 ? "20 MB reply" : job.scenario === "reply5" ? "5 MB reply" : "20 MB reply"} @ ${chunk}`;
        let row = rows.find((r) => r.label === label);
        if (!row) {
          row = { label, unit: isSmall ? "req/s" : "MB/s", cells: { bare: [], ours: [], official: [] }, failures: {} };
          rows.push(row);
        }
        if (typeof result === "string") {
          row.failures[job.client] = `failed: ${result}`;
          process.stdout.write(`  ${label} ${job.client}: FAILED ${result}\n`);
          continue;
        }
        const ms = result.ms * job.scale;
        const value = isSmall ? ((job.ops * job.scale) / ms) * 1000 : ((result.bytes * job.scale) / MB / ms) * 1000;
        const cell: Cell = { value, cpuMs: result.cpuMs * job.scale };
        if (job.note) cell.note = job.note;
        if (!isSmall && job.scale === 1) cell.mem = result.peakRssMb;
        row.cells[job.client].push(cell);
        process.stdout.write(`  ${label.padEnd(34)} ${job.client.padEnd(8)} ${fmt(value, isSmall ? 0 : 1).padStart(9)} ${row.unit}${job.note ? ` (${job.note})` : ""}, CPU ${fmt(cell.cpuMs)} ms${cell.mem !== undefined ? `, peak RSS +${fmt(cell.mem)} MB` : ""}\n`);
      }
    } finally {
      await server.close();
    }
  }

  // ---------------------------------------------------------------- table
  const lines: string[] = [];
  lines.push("");
  lines.push("| Scenario | bare | ours | official | ours vs bare (time) | ours vs bare (CPU) | ours vs bare (peak RSS) | official vs bare (time) |");
  lines.push("|---|---:|---:|---:|---:|---:|---:|---:|");
  const misses: string[] = [];
  for (const row of rows) {
    const cell = (c: ClientName) => {
      const values = row.cells[c];
      if (values.length === 0) return row.failures[c] ?? "-";
      return `${fmt(median(values.map((v) => v.value)), row.unit === "MB/s" ? 1 : 0)} ${row.unit}${values[0]?.note ? "*" : ""}`;
    };
    const ratio = (c: ClientName) => {
      const r = pairedRatio(row, c);
      return r === undefined ? "-" : `${fmt(r, 2)}x`;
    };
    const time = pairedRatio(row, "ours");
    const mem = memRatio(row);
    const cpu = cpuRatio(row);
    if (time !== undefined && time > TIME_TARGET) misses.push(`${row.label}: time ${fmt(time, 2)}x`);
    if (mem !== undefined && mem > MEM_TARGET) misses.push(`${row.label}: peak RSS ${fmt(mem, 2)}x`);
    lines.push(`| ${row.label} | ${cell("bare")} | ${cell("ours")} | ${cell("official")} | ${ratio("ours")} | ${cpu === undefined ? "-" : `${fmt(cpu, 2)}x`} | ${mem === undefined ? "-" : `${fmt(mem, 2)}x`} | ${ratio("official")} |`);
  }
  lines.push("");
  lines.push(`Time ratio = bare throughput / client throughput, median over ${rounds} interleaved round(s) of bare then ours (1.00x = as fast as bare; target for ours: <= ${fmt(TIME_TARGET, 2)}x).`);
  lines.push("CPU ratio = client process CPU time (user + system) for the same work, ours / bare, median of the paired rounds: steadier than wall time when the box is shared.");
  lines.push(`Peak RSS ratio = median RSS growth over the idle client, ours / bare (target <= ${fmt(MEM_TARGET, 2)}x).`);
  lines.push(`Figures are medians of the rounds; within a round, large scenarios take the best of ${mode === "echo" ? "5 operations (3 for 20 MB)" : "3 operations (2 for 20 MB)"} after one warm-up.`);
  lines.push("* official client: one round, fewer iterations, figure scaled (its 10 ms send timer and quadratic reassembly make full runs take minutes).");
  lines.push("");
  lines.push(misses.length === 0 ? `All scenarios: ours within ${fmt(TIME_TARGET, 2)}x of bare time and ${fmt(MEM_TARGET, 2)}x of bare peak RSS.` : `Above target: ${misses.join("; ")}`);
  lines.push(
    `Time ${fmt((Date.now() - started) / 1000)} s; server: ${mode === "project" ? "project server (startServer, validation off) in the parent process" : "minimal server (bench/client.ts --echo-server) in its own process"}; one client per child process.`,
  );
  process.stdout.write(lines.join("\n") + "\n");
}

const argv = process.argv.slice(2);
if (argv[0] === "--child") await child(argv.slice(1));
else if (argv[0] === "--echo-server") await echoServer(argv[1] ?? "25000");
else {
  const onlyAt = argv.indexOf("--only");
  const serverAt = argv.indexOf("--server");
  const only = onlyAt >= 0 ? (argv[onlyAt + 1] ?? "").split(",") : [];
  const roundsAt = argv.indexOf("--rounds");
  const which = serverAt >= 0 ? argv[serverAt + 1] : "both";
  const quick = argv.includes("--quick");
  const rounds = roundsAt >= 0 ? Number(argv[roundsAt + 1]) : quick ? 1 : 3;
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer, got ${argv[roundsAt + 1]}`);
  const skipOfficial = argv.includes("--no-official");
  const chunksAt = argv.indexOf("--chunks");
  const chunks = chunksAt >= 0 ? (argv[chunksAt + 1] ?? "").split(",").map(Number) : [];
  if (which === "project" || which === "both") await parent("project", quick, only, rounds, skipOfficial, chunks);
  if (which === "echo" || which === "both") await parent("echo", quick, only, rounds, skipOfficial, chunks);
  process.exit(0);
}
