/**
 * Denial-of-service benchmark: each attack of issue 11's class 4 and of issue 19 (reads that wrote, work inside
 * one operator, joins, storage, shared caps) runs for a few seconds against the project
 * server while a well-behaved client times a small `count` round trip, one after the other. Three processes,
 * so nothing shares an event loop or a heap: the server (its peak RSS is sampled there), the attacker, and
 * this parent (the well-behaved client and the table). Target: p99 under 100 ms and no crash, every attack.
 *
 *   npx tsx bench/dos.ts                 every attack, 3 s each
 *   npx tsx bench/dos.ts --ms 1500       shorter attacks
 *   npx tsx bench/dos.ts --only regex,range
 */
import { fork, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { connect as tcpConnect } from "node:net";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { startServer } from "../server/index.js";
import type { LimitOptions } from "../server/options.js";

const here = fileURLToPath(import.meta.url);
const USERS = [
  { username: "admin", password: "bench-admin", roles: ["admins"] },
  { username: "good", password: "bench-good" },
  { username: "attacker", password: "bench-attacker" },
];
const MB = 1024 * 1024;
const EVIL_INPUT = `${"a".repeat(28)}!`;

// ------------------------------------------------------------------------------------------ a minimal client

interface Client {
  ws: WebSocket;
  request(command: string, payload: unknown): Promise<{ command: string; payload: any }>;
  send(command: string, payload: unknown): void;
  close(): void;
}

let nextId = 1;

async function client(url: string, user?: { username: string; password: string }): Promise<Client> {
  const ws = new WebSocket(url);
  const waiting = new Map<string, { resolve: (m: { command: string; payload: any }) => void; reject: (e: Error) => void }>();
  const parts = new Map<string, string[]>();
  ws.on("message", (raw) => {
    const frame = JSON.parse(raw.toString()) as { id: string; replyto?: string; command: string; data?: string; count?: number; index?: number };
    if (!frame.replyto) return;
    let data = frame.data ?? "";
    if ((frame.count ?? 1) > 1) {
      const list = parts.get(frame.id) ?? [];
      list[frame.index ?? 0] = data;
      parts.set(frame.id, list);
      if (list.filter((x) => x !== undefined).length < (frame.count ?? 1)) return;
      parts.delete(frame.id);
      data = list.join("");
    }
    const done = waiting.get(frame.replyto);
    waiting.delete(frame.replyto);
    done?.resolve({ command: frame.command, payload: data ? JSON.parse(data) : null });
  });
  ws.on("close", () => {
    for (const w of waiting.values()) w.reject(new Error("closed"));
    waiting.clear();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  const c: Client = {
    ws,
    send(command, payload) {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ id: `b${nextId++}`, command, data: JSON.stringify(payload) }));
    },
    request(command, payload) {
      const id = `b${nextId++}`;
      return new Promise((resolve, reject) => {
        if (ws.readyState !== ws.OPEN) return reject(new Error("closed"));
        waiting.set(id, { resolve, reject });
        ws.send(JSON.stringify({ id, command, data: JSON.stringify(payload) }));
      });
    },
    close: () => ws.terminate(),
  };
  if (user) {
    const reply = await c.request("signin", user);
    if (reply.command !== "signin") throw new Error(`signin failed: ${JSON.stringify(reply.payload)}`);
  }
  return c;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------------------------------ server process

async function serverProcess(limits: LimitOptions): Promise<void> {
  const server = await startServer({ users: USERS, limits });
  let peak = process.memoryUsage.rss();
  setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 10).unref();
  process.on("message", (m: { type: string }) => {
    if (m.type === "peak") {
      process.send?.({ type: "peak", rss: Math.max(peak, process.memoryUsage.rss()), connections: server.connectionCount });
      peak = process.memoryUsage.rss();
    }
  });
  process.send?.({ type: "ready", url: server.url, port: server.port });
}

// ------------------------------------------------------------------------------------------ attacks

interface Attack {
  name: string;
  what: string;
  /** Server limits other than the defaults, for this attack only. */
  limits?: LimitOptions;
  /** Set up (not timed), then attack until `stop()` is true; returns a one-line outcome. */
  run(url: string, port: number, started: () => void, stopped: () => boolean): Promise<string>;
}

/** The owner (USERS[1]) signing in from 127.0.0.1 every 500 ms while an attack runs: what each attempt got. */
function ownerSignsIn(url: string, stopped: () => boolean): Promise<string> {
  return loops(1, stopped, async () => {
    await sleep(500);
    const c = await client(url);
    const r = await c.request("signin", USERS[1]);
    c.close();
    return r.command === "signin" ? "owner signed in" : `owner refused: ${outcomeOf(r)}`;
  });
}

/** Run `count` attacker loops, each repeating `step` until stopped; counts what the server answered. */
async function loops(count: number, stopped: () => boolean, step: (i: number) => Promise<string>): Promise<string> {
  const outcomes = new Map<string, number>();
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      while (!stopped()) {
        let outcome: string;
        try {
          outcome = await step(i);
        } catch (err) {
          outcome = (err as Error).message.slice(0, 60);
          await sleep(5);
        }
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
    }),
  );
  return [...outcomes].map(([k, v]) => `${v}x ${k}`).join("; ");
}

function outcomeOf(reply: { command: string; payload: any }): string {
  if (reply.command !== "error") return reply.command;
  return String(reply.payload?.message ?? "").replace(/\d+/g, "N").slice(0, 70);
}

const attacks: Attack[] = [
  {
    name: "baseline",
    what: "no attack",
    async run(_url, _port, started, stopped) {
      started();
      while (!stopped()) await sleep(20);
      return "-";
    },
  },
  {
    name: "regex",
    what: "4 connections: ^(a+)+$ query/count on 200 docs of 28 a's + '!'",
    async run(url, _port, started, stopped) {
      const c = await client(url, USERS[2]);
      await c.request("insertmany", { collectionname: "evil", items: Array.from({ length: 200 }, () => ({ name: EVIL_INPUT })) });
      const cs = await Promise.all([0, 1, 2, 3].map(() => client(url, USERS[2])));
      started();
      return loops(4, stopped, async (i) => outcomeOf(await (cs[i] as Client).request(i % 2 ? "count" : "query", { collectionname: "evil", query: { name: { $regex: "^(a+)+$" } } })));
    },
  },
  {
    name: "watch-regex",
    what: "one connection asks for 1000 watches with ^(a+)+$ filters (100 granted, maxWatchesPerConnection); inserts of 28 a's + '!' into the watched collection",
    async run(url, _port, started, stopped) {
      const w = await client(url, USERS[2]);
      for (let i = 0; i < 1000; i++) w.send("watch", { collectionname: "entities", aggregates: [{ $match: { "fullDocument.name": { $regex: "^(a+)+$" } } }] });
      await w.request("count", { collectionname: "entities", query: {} });
      const c = await client(url, USERS[2]);
      started();
      return loops(1, stopped, async () => outcomeOf(await c.request("insertone", { collectionname: "entities", item: { name: EVIL_INPUT } })));
    },
  },
  {
    name: "range",
    what: "4 connections: $range of 1e9 in aggregate and in a count filter",
    async run(url, _port, started, stopped) {
      const cs = await Promise.all([0, 1, 2, 3].map(() => client(url, USERS[2])));
      await (cs[0] as Client).request("insertone", { collectionname: "entities", item: { name: "one document for the filter to run on" } });
      started();
      return loops(4, stopped, async (i) =>
        outcomeOf(
          i % 2
            ? await (cs[i] as Client).request("aggregate", { collectionname: "entities", aggregates: [{ $documents: [{ r: { $range: [0, 1e9] } }] }] })
            : await (cs[i] as Client).request("count", { collectionname: "entities", query: { $expr: { $gt: [{ $size: { $range: [0, 1e9] } }, 0] } } }),
        ),
      );
    },
  },
  {
    name: "work",
    what: "1 connection: $map in $map (10^8 steps asked), back to back",
    async run(url, _port, started, stopped) {
      const c = await client(url, USERS[2]);
      started();
      return loops(1, stopped, async () =>
        outcomeOf(await c.request("aggregate", { collectionname: "entities", aggregates: [{ $documents: [{ n: { $size: { $map: { input: { $range: [0, 100_000] }, in: { $size: { $range: [0, 1_000] } } } } } }] }] })),
      );
    },
  },
  {
    name: "unauth-flood",
    what: "300 connections without signin, each announcing a 30 MB frame (under maxFrameBytes) and sending 2 MB of it",
    async run(_url, port, started, stopped) {
      started();
      let refused = 0;
      let closed = 0;
      const sockets = await Promise.all(
        Array.from({ length: 300 }, async () => {
          const socket = tcpConnect(port, "127.0.0.1");
          socket.on("error", () => {});
          socket.on("close", () => closed++);
          await new Promise<void>((resolve) => socket.once("connect", () => resolve()).once("error", () => resolve()));
          socket.write(`GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
          const ok = await new Promise<boolean>((resolve) => {
            socket.once("data", (d: Buffer) => resolve(d.toString().startsWith("HTTP/1.1 101")));
            socket.once("close", () => resolve(false));
          });
          if (!ok) {
            refused++;
            return socket;
          }
          const header = Buffer.alloc(14);
          header[0] = 0x81;
          header[1] = 0x80 | 127;
          header.writeBigUInt64BE(BigInt(30 * MB), 2);
          socket.write(header);
          for (let i = 0; i < 32 && !socket.destroyed; i++) {
            socket.write(Buffer.alloc(64 * 1024, 0x61));
            await sleep(5);
          }
          return socket;
        }),
      );
      while (!stopped()) await sleep(20);
      for (const s of sockets) s.destroy();
      return `${refused} refused at the upgrade (503), ${closed} closed by the server or at the end`;
    },
  },
  {
    name: "signin-flood",
    what: "60 connections: wrong-password signins back to back (other usernames each time)",
    async run(url, _port, started, stopped) {
      const cs = await Promise.all(Array.from({ length: 60 }, () => client(url)));
      started();
      let n = 0;
      return loops(60, stopped, async (i) => outcomeOf(await (cs[i] as Client).request("signin", { username: `guess${n++}`, password: "wrong" })));
    },
  },
  {
    name: "role-chain",
    what: "a chain of 3000 nested roles holding the attacker; its commands back to back",
    async run(url, _port, started, stopped) {
      const admin = await client(url, USERS[0]);
      const users = await admin.request("query", { collectionname: "users", query: { username: "attacker" } });
      const attackerId = String(users.payload.result[0]._id);
      let holder = { _id: attackerId, name: "attacker" };
      const roles: any[] = [];
      for (let i = 0; i < 3000; i++) {
        const _id = randomBytes(12).toString("hex");
        roles.push({ _id, _type: "role", name: `chain${i}`, members: [holder] });
        holder = { _id, name: `chain${i}` };
      }
      const made = await admin.request("insertmany", { collectionname: "users", items: roles, skipresults: true });
      if (made.command !== "insertmany") throw new Error(JSON.stringify(made.payload));
      const c = await client(url, USERS[2]);
      started();
      return loops(2, stopped, async () => outcomeOf(await c.request("count", { collectionname: "entities", query: {} })));
    },
  },
  {
    name: "watches",
    what: "20 connections hold 20 000 watches on 100 other collections (maxWatchesPerConnection raised to 1000); inserts into entities",
    limits: { maxWatchesPerConnection: 1_000 },
    async run(url, _port, started, stopped) {
      const ws = await Promise.all(Array.from({ length: 20 }, () => client(url, USERS[2])));
      for (const w of ws) for (let i = 0; i < 1000; i++) w.send("watch", { collectionname: `noise${i % 100}`, paths: [] });
      for (const w of ws) await w.request("count", { collectionname: "entities", query: {} });
      const c = await client(url, USERS[2]);
      started();
      return loops(1, stopped, async () => outcomeOf(await c.request("insertone", { collectionname: "entities", item: { name: "x" } })));
    },
  },
  {
    name: "big-replies",
    what: "1 connection: 10 queries at once for a 2 MB document each, read normally, again and again",
    async run(url, _port, started, stopped) {
      const c = await client(url, USERS[2]);
      await c.request("insertone", { collectionname: "blobs", item: { big: "b".repeat(2 * MB) } });
      started();
      return loops(1, stopped, async () => {
        const replies = await Promise.all(Array.from({ length: 10 }, () => c.request("query", { collectionname: "blobs", query: {} })));
        return replies.every((r) => r.command === "query" && r.payload.result[0].big.length === 2 * MB) ? "10 replies of 2 MB" : "failed";
      });
    },
  },
  {
    name: "half-received",
    what: "20 signed-in connections each sending 15 MB of a chunked message that never completes (300 MB in about 2 s)",
    async run(url, _port, started, stopped) {
      const cs = await Promise.all(Array.from({ length: 20 }, () => client(url, USERS[2])));
      started();
      const chunk = "z".repeat(500_000);
      let sent = 0;
      for (const [n, c] of cs.entries()) {
        for (let i = 0; i < 30 && c.ws.readyState === c.ws.OPEN; i++) {
          c.ws.send(JSON.stringify({ id: `half${n}`, command: "insertone", count: 100, index: i, data: chunk }));
          sent++;
          await sleep(2);
        }
      }
      while (!stopped()) await sleep(20);
      return `${sent} chunks sent, ${cs.filter((c) => c.ws.readyState !== c.ws.OPEN).length} of 20 connections closed by the total cap`;
    },
  },
  // ---- issue 19
  {
    name: "reads-write",
    what: "2 connections: aggregate [{$set: {'_acl.0.rights': 65535}}] and query with projection {'_acl.rights': 0} on 100 readable documents, back to back",
    async run(url, _port, started, stopped) {
      const cs = await Promise.all([0, 1].map(() => client(url, USERS[2])));
      await (cs[0] as Client).request("insertmany", { collectionname: "entities", items: Array.from({ length: 100 }, (_, i) => ({ name: `d${i}`, nested: { x: i } })), skipresults: true });
      started();
      return loops(2, stopped, async (i) =>
        outcomeOf(
          i
            ? await (cs[i] as Client).request("query", { collectionname: "entities", query: {}, projection: { "_acl.rights": 0, "nested.x": 0 } })
            : await (cs[i] as Client).request("aggregate", { collectionname: "entities", aggregates: [{ $set: { "_acl.0.rights": 65535, "nested.x": 0 } }] }),
        ),
      );
    },
  },
  {
    name: "all-25k",
    what: "2 connections: count with $all of 25 000 values against a document holding a 25 000-item array",
    async run(url, _port, started, stopped) {
      const cs = await Promise.all([0, 1].map(() => client(url, USERS[2])));
      const big = Array.from({ length: 25_000 }, (_, i) => i);
      await (cs[0] as Client).request("insertone", { collectionname: "entities", item: { name: "big", items: big } });
      started();
      return loops(2, stopped, async (i) => outcomeOf(await (cs[i] as Client).request("count", { collectionname: "entities", query: { items: { $all: big } } })));
    },
  },
  {
    name: "in-300k",
    what: "2 connections: count with $in of 300 000 values over 255 documents",
    async run(url, _port, started, stopped) {
      const cs = await Promise.all([0, 1].map(() => client(url, USERS[2])));
      await (cs[0] as Client).request("insertmany", { collectionname: "entities", items: Array.from({ length: 255 }, (_, i) => ({ n: i })), skipresults: true });
      const values = Array.from({ length: 300_000 }, (_, i) => i * 2);
      started();
      return loops(2, stopped, async (i) => outcomeOf(await (cs[i] as Client).request("count", { collectionname: "entities", query: { n: { $in: values } } })));
    },
  },
  {
    name: "self-join",
    what: "1 connection: a $lookup self-join over 1000 documents, 4 at once, again and again",
    async run(url, _port, started, stopped) {
      const c = await client(url, USERS[2]);
      await c.request("insertmany", { collectionname: "entities", items: Array.from({ length: 1000 }, (_, i) => ({ name: `d${i}`, k: 1 })), skipresults: true });
      const join = { collectionname: "entities", aggregates: [{ $lookup: { from: "entities", localField: "k", foreignField: "k", as: "all" } }] };
      started();
      return loops(1, stopped, async () => (await Promise.all([1, 2, 3, 4].map(() => c.request("aggregate", join)))).map(outcomeOf).join(", ").slice(0, 80));
    },
  },
  {
    name: "big-doc-inc",
    what: "1 connection: a 20 MB document (refused), then a 15 MB one and ~120-byte $inc updates of it back to back",
    async run(url, _port, started, stopped) {
      const c = await client(url, USERS[2]);
      const refused = outcomeOf(await c.request("insertone", { collectionname: "blobs", item: { big: "b".repeat(20 * MB) } }));
      const doc = await c.request("insertone", { collectionname: "blobs", item: { n: 0, big: "b".repeat(15 * MB) } });
      const id = doc.payload?.result?._id;
      started();
      const outcome = await loops(1, stopped, async () => outcomeOf(await c.request("updateone", { collectionname: "blobs", query: { _id: id }, item: { $inc: { n: 1 } } })));
      return `20 MB: ${refused}; ${outcome}`;
    },
  },
  {
    name: "idle-sockets",
    what: "150 websocket connections that never sign in, kept open; a new client connects and signs in every 200 ms",
    async run(url, _port, started, stopped) {
      started();
      const idle = await Promise.all(Array.from({ length: 150 }, () => client(url).catch(() => undefined)));
      const outcome = await loops(1, stopped, async () => {
        await sleep(200);
        const c = await client(url, USERS[1]);
        c.close();
        return "new client signed in";
      });
      const open = idle.filter((c) => c && c.ws.readyState === c.ws.OPEN).length;
      for (const c of idle) c?.close();
      return `${outcome}; ${open} of 150 idle still open (the oldest were closed for newcomers)`;
    },
  },
  {
    name: "one-user-conns",
    what: "one user opens 300 signed-in connections (maxConnectionsPerUser 250), then holds them",
    async run(url, _port, started, stopped) {
      started();
      const outcomes = new Map<string, number>();
      const held: Client[] = [];
      for (let i = 0; i < 300; i++) {
        try {
          held.push(await client(url, USERS[2]));
          outcomes.set("signed in", (outcomes.get("signed in") ?? 0) + 1);
        } catch (err) {
          const m = (err as Error).message.replace(/\d+/g, "N").slice(0, 60);
          outcomes.set(m, (outcomes.get(m) ?? 0) + 1);
        }
      }
      while (!stopped()) await sleep(20);
      for (const c of held) c.close();
      return [...outcomes].map(([k, v]) => `${v}x ${k}`).join("; ");
    },
  },
  {
    name: "owner-lockout",
    what: "wrong passwords for the well-behaved user from the shared address, back to back; the owner's right password every 500 ms",
    async run(url, _port, started, stopped) {
      const cs = await Promise.all(Array.from({ length: 4 }, () => client(url)));
      started();
      const guesses = loops(4, stopped, async (i) => outcomeOf(await (cs[i] as Client).request("signin", { username: "good", password: `guess${i}` })));
      const owner = ownerSignsIn(url, stopped);
      return `${await owner}; ${(await guesses).slice(0, 80)}`;
    },
  },
  {
    name: "loopback-flood",
    what: "60 connections from 60 loopback addresses (127.0.1.x): wrong-password signins back to back; the owner signs in from 127.0.0.1 every 500 ms",
    async run(url, _port, started, stopped) {
      const flood = await Promise.all(Array.from({ length: 60 }, (_, i) => clientFrom(url, `127.0.1.${i + 2}`)));
      started();
      const guesses = loops(60, stopped, async (i) => outcomeOf(await (flood[i] as Client).request("signin", { username: `guess${i}`, password: "wrong" })));
      const owner = ownerSignsIn(url, stopped);
      return `${await owner}; ${(await guesses).slice(0, 80)}`;
    },
  },
  {
    name: "queue-hog",
    what: "1 user publishes to new queue names nobody consumes, back to back (maxQueues and maxQueuedMessages shares)",
    async run(url, _port, started, stopped) {
      const c = await client(url, USERS[2]);
      started();
      let n = 0;
      return loops(1, stopped, async () => outcomeOf(await c.request("queuemessage", { queuename: `hog${n++}`, data: { n } })));
    },
  },
];

/** A client whose socket is bound to `localAddress` (another loopback address than 127.0.0.1). */
async function clientFrom(url: string, localAddress: string): Promise<Client> {
  const ws = new WebSocket(url, { localAddress });
  const waiting = new Map<string, (m: { command: string; payload: any }) => void>();
  ws.on("message", (raw) => {
    const frame = JSON.parse(raw.toString()) as { replyto?: string; command: string; data?: string };
    const done = frame.replyto ? waiting.get(frame.replyto) : undefined;
    if (!done || !frame.replyto) return;
    waiting.delete(frame.replyto);
    done({ command: frame.command, payload: frame.data ? JSON.parse(frame.data) : null });
  });
  await new Promise<void>((resolve, reject) => ws.once("open", () => resolve()).once("error", reject));
  return {
    ws,
    send: (command, payload) => ws.send(JSON.stringify({ id: `b${nextId++}`, command, data: JSON.stringify(payload) })),
    request: (command, payload) =>
      new Promise((resolve, reject) => {
        if (ws.readyState !== ws.OPEN) return reject(new Error("closed"));
        const id = `b${nextId++}`;
        waiting.set(id, resolve);
        ws.send(JSON.stringify({ id, command, data: JSON.stringify(payload) }));
      }),
    close: () => ws.terminate(),
  };
}

async function attackerProcess(name: string, url: string, port: number): Promise<void> {
  const attack = attacks.find((a) => a.name === name);
  if (!attack) throw new Error(`unknown attack ${name}`);
  let stop = false;
  process.on("message", (m: { type: string }) => {
    if (m.type === "stop") stop = true;
  });
  const outcome = await attack.run(url, port, () => process.send?.({ type: "started" }), () => stop);
  process.send?.({ type: "done", outcome }, () => process.exit(0));
}

// ------------------------------------------------------------------------------------------ parent

function once<T>(child: ChildProcess, type: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} from child within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (m: { type: string }) => {
      if (m.type !== type) return;
      clearTimeout(timer);
      child.off("message", onMessage);
      resolve(m as T);
    };
    child.on("message", onMessage);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`child exited with ${code} before ${type}`));
    });
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const msArg = args.indexOf("--ms");
  const ms = msArg >= 0 ? Number(args[msArg + 1]) : 3_000;
  const onlyArg = args.indexOf("--only");
  const only = onlyArg >= 0 ? (args[onlyArg + 1] ?? "").split(",") : undefined;
  const chosen = attacks.filter((a) => !only || only.includes(a.name));
  const rows: string[] = [];
  let failures = 0;
  const load = loadavg().map((l) => l.toFixed(1)).join(" ");
  process.stdout.write(`denial-of-service attempts, ${ms} ms each; the well-behaved client times a small count round trip (${cpus().length} CPUs, load average ${load})\n\n`);
  const header = `| attack | round trips | p50 ms | p99 ms | max ms | server peak RSS MB | server | what the attacker got |`;
  process.stdout.write(`${header}\n|---|---|---|---|---|---|---|---|\n`);
  for (const attack of chosen) {
    // A fresh server per attack: one attack's leftovers (watches, roles) do not weigh on the next.
    const server = fork(here, ["--server", JSON.stringify(attack.limits ?? {})], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const ready = await once<{ url: string; port: number }>(server, "ready", 60_000);
    const good = await client(ready.url, USERS[1]);
    await good.request("count", { collectionname: "entities", query: {} });
    server.send({ type: "peak" });
    await once(server, "peak", 10_000);
    const attacker = fork(here, ["--attack", attack.name, ready.url, String(ready.port)], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    let outcome = "(attacker failed)";
    const done = once<{ outcome: string }>(attacker, "done", 120_000 + ms).then(
      (m) => (outcome = m.outcome),
      (err: Error) => (outcome = `(attacker: ${err.message})`),
    );
    let serverDied = false;
    server.once("exit", () => (serverDied = true));
    await once(attacker, "started", 120_000);
    const latencies: number[] = [];
    let errors = 0;
    const end = performance.now() + ms;
    while (performance.now() < end && !serverDied) {
      const t = performance.now();
      try {
        const reply = await Promise.race([good.request("count", { collectionname: "entities", query: {} }), sleep(10_000).then(() => ({ command: "timeout", payload: null }))]);
        if (reply.command !== "count") errors++;
      } catch {
        errors++;
        break;
      }
      latencies.push(performance.now() - t);
      await sleep(5);
    }
    attacker.send({ type: "stop" });
    await done;
    attacker.kill();
    let peakMb = Number.NaN;
    if (!serverDied) {
      server.send({ type: "peak" });
      peakMb = (await once<{ rss: number }>(server, "peak", 10_000)).rss / MB;
    }
    good.close();
    server.kill();
    latencies.sort((a, b) => a - b);
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    const ok = !serverDied && errors === 0 && p99 < 100;
    if (!ok) failures++;
    const row = `| ${attack.name} | ${latencies.length}${errors ? ` (${errors} failed)` : ""} | ${p50.toFixed(1)} | ${p99.toFixed(1)} | ${(latencies.at(-1) ?? NaN).toFixed(1)} | ${peakMb.toFixed(0)} | ${serverDied ? "CRASHED" : "up"} | ${outcome.slice(0, 160)} |`;
    rows.push(row);
    process.stdout.write(`${row}\n`);
  }
  process.stdout.write(`\n${chosen.map((a) => `${a.name}: ${a.what}`).join("\n")}\n`);
  process.stdout.write(failures === 0 ? "\nevery attack: p99 < 100 ms, no crash\n" : `\n${failures} attack(s) missed the target (p99 < 100 ms, no crash, no failed round trip)\n`);
}

const argv = process.argv.slice(2);
if (argv[0] === "--server") void serverProcess(JSON.parse(argv[1] ?? "{}") as LimitOptions);
else if (argv[0] === "--attack") void attackerProcess(argv[1] as string, argv[2] as string, Number(argv[3]));
else
  void main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`bench/dos: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
