/**
 * Proxy benchmark: round-trip latency (p50, p99) and large-message throughput through `openflow-spec proxy`
 * against the same traffic sent directly, measured side by side in one run. The upstream, each proxy and the
 * client are separate processes (as in CI); the client is a bare `ws` peer that only correlates ids, so the
 * figures are the transport and the proxy, not a client library.
 *
 *   npx tsx bench/proxy.ts            full run (about a minute)
 *   npx tsx bench/proxy.ts --quick    fewer iterations (smoke)
 *
 * Upstreams: the project server (`startServer`, what the proxy is used against; the target applies here) and a
 * minimal server with precomputed replies (no work per request, so the proxy's two extra hops are the whole
 * difference: an upper bound on its cost). Proxies: forwarding only, and `--out` + `--check` (capture written,
 * secrets redacted, every frame validated live: the CI configuration; recording and checking run in the proxy's
 * checking worker thread, which also writes the capture file, so forwarding only copies each message once), and
 * for comparison the same work on the proxy's own thread (`checkInWorker: false`, as before the worker existed).
 * Targets: latency at most 1.5x direct, throughput at least 50% of direct.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import WebSocket, { WebSocketServer } from "ws";

const here = fileURLToPath(import.meta.url);
const argv = process.argv.slice(2);
const USER = { username: "bench", password: "bench-password" };
const BLOB = 1024 * 1024;

// ------------------------------------------------------------------------------------------ child roles

async function upstreamRole(kind: string): Promise<void> {
  if (kind === "project") {
    const { startServer } = await import("../server/index.js");
    const server = await startServer({ users: [{ ...USER, roles: ["admins"] }], heartbeat: { timeoutMs: 0, signinTimeoutMs: 0 } });
    process.stdout.write(`URL ${server.url}\n`);
    return;
  }
  // Minimal server: answers each request with a precomputed reply of the same kind, chunked like the project server.
  const { encodeMessageText } = await import("../runtime/framing.js");
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, maxPayload: 64 * 1024 * 1024 });
  const bigItem = JSON.stringify({ result: { _id: "0123456789abcdef01234567", _type: "blob", blob: "b".repeat(BLOB) } });
  wss.on("connection", (ws) => {
    ws.on("message", (raw) => {
      const text = raw.toString();
      const id = /^\{"id":"([^"]+)"/.exec(text)?.[1] ?? "";
      const command = /"command":"([^"]+)"/.exec(text.slice(0, 200))?.[1] ?? "query";
      const data = command === "signin" ? JSON.stringify({ jwt: "eyJ.bench.sig", user: { _id: "u", name: "bench", username: "bench" } }) : command === "insertone" ? bigItem : JSON.stringify({ result: [] });
      for (const frame of encodeMessageText({ id: `r${id}`, replyto: id, command, data }, 25_000)) ws.send(frame);
    });
  });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  process.stdout.write(`URL ws://127.0.0.1:${(wss.address() as AddressInfo).port}/\n`);
}

async function proxyRole(upstream: string, mode: string, out: string): Promise<void> {
  const { startProxy } = await import("../proxy/index.js");
  let findings = 0;
  const onFinding = (): void => void findings++;
  // "check": as the CLI does with --out --check (the checking worker writes the capture file itself); "inline":
  // the same work on the proxy's own thread, as before the worker existed (for comparison in the same run).
  const { openCaptureFile } = await import("../validator/capture-file.js");
  const sink = mode === "inline" ? await openCaptureFile(out) : undefined;
  const proxy = await startProxy({
    upstream,
    ...(mode === "check" ? { captureFile: out, onFinding } : {}),
    ...(sink ? { capture: sink, onFinding, checkInWorker: false } : {}),
  });
  process.stdout.write(`URL ${proxy.url}\n`);
  process.once("SIGTERM", () => {
    void proxy.close().then(async () => {
      if (proxy.captureError) process.stdout.write(`CAPTURE ERROR ${proxy.captureError}\n`);
      await sink?.close();
      process.stdout.write(`FINDINGS ${findings}\n`);
      process.exit(0);
    });
  });
}

// ------------------------------------------------------------------------------------------ client side

function startChild(args: string[]): Promise<{ proc: ChildProcess; url: string; output: () => string }> {
  const proc = spawn(process.execPath, ["--import", "tsx", here, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bench child ${args.join(" ")} did not start: ${out}`)), 60_000);
    proc.stdout?.on("data", (d) => {
      out += d;
      const url = /^URL (\S+)$/m.exec(out)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve({ proc, url, output: () => out });
      }
    });
    proc.once("exit", (code) => reject(new Error(`bench child ${args.join(" ")} exited ${code}: ${out}`)));
  });
}

/** A bare peer: sends frames, resolves when the last chunk of the reply to that id arrived. */
class Peer {
  private next = 1;
  private readonly waiting = new Map<string, () => void>();
  private constructor(private readonly ws: WebSocket) {
    ws.on("message", (raw) => {
      const text = raw.toString();
      const replyto = /"replyto":"([^"]+)"/.exec(text.slice(0, 300))?.[1];
      if (!replyto) return;
      const count = /"count":(\d+)/.exec(text.slice(0, 300))?.[1];
      const index = /"index":(\d+)/.exec(text.slice(0, 300))?.[1];
      if (count !== undefined && index !== undefined && Number(index) !== Number(count) - 1) return;
      const done = this.waiting.get(replyto);
      this.waiting.delete(replyto);
      done?.();
    });
  }

  static async open(url: string): Promise<Peer> {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    const peer = new Peer(ws);
    await peer.request("signin", JSON.stringify(USER));
    return peer;
  }

  request(command: string, data: string): Promise<void> {
    const id = String(this.next++);
    const done = new Promise<void>((resolve) => this.waiting.set(id, resolve));
    this.ws.send(`{"id":"${id}","command":"${command}","data":${JSON.stringify(data)}}`);
    return done;
  }

  close(): void {
    this.ws.close();
  }
}

const SMALL = JSON.stringify({ collectionname: "bench", query: { _id: "000000000000000000000000" }, top: 1 });
const LARGE = JSON.stringify({ collectionname: "bench", item: { _type: "blob", blob: "b".repeat(BLOB) } });

async function latency(url: string, n: number): Promise<number[]> {
  const peer = await Peer.open(url);
  for (let i = 0; i < 50; i++) await peer.request("query", SMALL);
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await peer.request("query", SMALL);
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  peer.close();
  return samples;
}

/** MB/s moved (request and reply) with `window` large requests in flight. */
async function throughput(url: string, n: number, window = 4): Promise<number> {
  const peer = await Peer.open(url);
  await peer.request("insertone", LARGE);
  await peer.request("deletemany", JSON.stringify({ collectionname: "bench", query: { _type: "blob" } }));
  const t = process.hrtime.bigint();
  let sent = 0;
  const lane = async (): Promise<void> => {
    while (sent < n) {
      sent++;
      await peer.request("insertone", LARGE);
    }
  };
  await Promise.all(Array.from({ length: window }, lane));
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  // Untimed clean-up so the project server's memory does not grow between runs.
  await peer.request("deletemany", JSON.stringify({ collectionname: "bench", query: { _type: "blob" } }));
  peer.close();
  return (n * 2 * (LARGE.length + 100)) / 1e6 / seconds;
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function main(): Promise<void> {
  const quick = argv.includes("--quick");
  const latencyN = quick ? 300 : 500;
  const largeN = quick ? 8 : 12;
  const rounds = quick ? 1 : 9;
  const dir = mkdtempSync(join(tmpdir(), "openflow-bench-proxy-"));
  const children: ChildProcess[] = [];
  const rows: string[] = [];
  let verdict = true;
  try {
    for (const kind of ["project", "minimal"]) {
      const up = await startChild(["--role", "upstream", kind]);
      children.push(up.proc);
      const forward = await startChild(["--role", "proxy", up.url, "forward", join(dir, "unused.ndjson")]);
      const capturePath = join(dir, `${kind}.ndjson`);
      const checked = await startChild(["--role", "proxy", up.url, "check", capturePath]);
      const inline = await startChild(["--role", "proxy", up.url, "inline", join(dir, `${kind}-inline.ndjson`)]);
      children.push(forward.proc, checked.proc, inline.proc);
      const targets = { direct: up.url, proxy: forward.url, "proxy --out --check": checked.url, "(same, no worker)": inline.url } as const;
      const lat: Record<string, { p50: number[]; p99: number[]; ratio: number[] }> = {};
      const thr: Record<string, { mbs: number[]; share: number[] }> = {};
      // What recording and checking add to forwarding, per round (the part of the cost the worker thread moves).
      const checkVsForward: number[] = [];
      // Short rounds interleave the configurations so drift on a shared box hits all of them alike; each round's
      // figures are compared with that round's direct figures, and the median of those ratios is reported.
      for (let r = 0; r < rounds; r++) {
        const round: Record<string, { p50: number; mbs: number }> = {};
        for (const [name, url] of Object.entries(targets)) {
          const samples = await latency(url, latencyN);
          const l = (lat[name] ??= { p50: [], p99: [], ratio: [] });
          round[name] = { p50: percentile(samples, 50), mbs: await throughput(url, largeN) };
          l.p50.push(round[name].p50);
          l.p99.push(percentile(samples, 99));
          (thr[name] ??= { mbs: [], share: [] }).mbs.push(round[name].mbs);
        }
        checkVsForward.push((round["proxy --out --check"]?.p50 ?? NaN) / (round.proxy?.p50 ?? NaN));
        for (const name of Object.keys(targets)) {
          lat[name]?.ratio.push((round[name]?.p50 ?? NaN) / (round.direct?.p50 ?? NaN));
          thr[name]?.share.push((round[name]?.mbs ?? NaN) / (round.direct?.mbs ?? NaN));
        }
      }
      for (const name of Object.keys(targets)) {
        const p50 = median(lat[name]?.p50 ?? []);
        const p99 = median(lat[name]?.p99 ?? []);
        const mbs = median(thr[name]?.mbs ?? []);
        const ratioP50 = median(lat[name]?.ratio ?? []);
        const share = median(thr[name]?.share ?? []);
        const ok = name === "direct" || (ratioP50 <= 1.5 && share >= 0.5);
        if (kind === "project" && !ok && !name.startsWith("(")) verdict = false;
        rows.push(
          `| ${kind} | ${name} | ${p50.toFixed(3)} | ${p99.toFixed(3)} | ${name === "direct" ? "1.00x" : `${ratioP50.toFixed(2)}x`} | ${mbs.toFixed(0)} | ${name === "direct" ? "100%" : `${(share * 100).toFixed(0)}%`} | ${name === "direct" ? "" : name.startsWith("(") ? "(comparison: before the worker)" : kind === "project" ? (ok ? "met" : "MISSED") : "(upper bound, no target)"} |`,
        );
      }
      checked.proc.kill("SIGTERM");
      await new Promise((resolve) => checked.proc.once("exit", resolve));
      inline.proc.kill("SIGTERM");
      const findings = /FINDINGS (\d+)/.exec(checked.output())?.[1];
      rows.push(`|  | (${kind}: live check found ${findings ?? "?"} problems; capture ${(statSync(capturePath).size / 1e6).toFixed(0)} MB; p50 of --out --check vs proxy ${median(checkVsForward).toFixed(2)}x) | | | | | | |`);
    }
  } finally {
    for (const c of children) c.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(
    [
      `proxy benchmark: ${latencyN} sequential small round trips (query), ${largeN} x 1 MiB insertone round trips (4 in flight, 1 MiB reply in 25 kB chunks); per round, median of ${rounds} interleaved rounds (ratios taken within each round); load average ${loadavg().map((l) => l.toFixed(1)).join(" ")}`,
      "",
      "| upstream | path | p50 ms | p99 ms | p50 vs direct | MB/s | of direct | target (<= 1.5x, >= 50%) |",
      "|---|---|---|---|---|---|---|---|",
      ...rows,
      "",
    ].join("\n"),
  );
  process.exitCode = verdict ? 0 : 1;
}

if (argv[0] === "--role") {
  if (argv[1] === "upstream") await upstreamRole(argv[2] ?? "project");
  else await proxyRole(argv[2] as string, argv[3] as string, argv[4] as string);
} else {
  await main();
}
