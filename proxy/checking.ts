/**
 * Recording and checking off the forwarding path. Each forwarded message is copied into a batch that is handed
 * to a worker thread (./worker.ts) running the recorder and the checker: every FLUSH_MS, or at once when the batch
 * holds FLUSH_BYTES or FLUSH_ITEMS (one postMessage costs about as much as forwarding a small message, so it is
 * not paid per message). The proxy's thread only copies bytes. The bytes of a batch count
 * in the proxy's memory budget until the worker has answered it, so a worker that falls behind slows the senders
 * down (back-pressure) instead of growing a queue. With `worker: false` the same processing runs inline after the
 * forwarding of each turn (setImmediate), as before the worker existed.
 */
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { ConnectionsStats } from "../validator/connections.js";
import type { Finding } from "../validator/findings.js";
import type { MemoryBudget } from "./budget.js";
import { TrafficProcessor, type TrafficItem, type TrafficOptions } from "./traffic.js";

const FLUSH_MS = 5;
const FLUSH_BYTES = 256 * 1024;
const FLUSH_ITEMS = 512;

export interface CheckingOptions extends TrafficOptions {
  /** Run in a worker thread (default true). */
  worker: boolean;
  /** With a worker: the capture file it writes itself (then `line` is not called). */
  captureFile?: string | undefined;
  budget: MemoryBudget;
  line: (text: string) => void;
  finding: (f: Finding) => void;
  /** A worker failure (the proxy goes on forwarding). */
  failed: (message: string) => void;
}

interface Reply {
  type: "done" | "finished";
  lines: string[];
  findings: Finding[];
  stats: ConnectionsStats | undefined;
  /** Bytes of batches now processed (and written). */
  bytes: number;
  /** The capture file could not be written or closed. */
  error?: string;
}

/**
 * Start the worker from this module's sibling: worker.js when built; from source (tests, benches, `tsx`), a small
 * bootstrap registers tsx's loader inside the worker first (a loader of the parent thread does not reach it).
 */
function startWorker(data: TrafficOptions & { captureFile?: string }): Worker {
  if (!import.meta.url.endsWith(".ts")) return new Worker(new URL("./worker.js", import.meta.url), { workerData: data });
  // The ESM build of tsx/esm/api (require.resolve finds the CommonJS one next to it).
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx/esm/api").replace(/\.cjs$/, ".mjs")).href;
  const entry = new URL("./worker.ts", import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: data, execArgv: [] });
}

export class Checking {
  private items: TrafficItem[] = [];
  private transfer: ArrayBuffer[] = [];
  private bytes = 0;
  /** Bytes posted and not yet acknowledged. */
  private inFlight = 0;
  private readonly worker: Worker | undefined;
  private readonly inline: TrafficProcessor | undefined;
  private latest: ConnectionsStats | undefined;
  private finishing: ((value: void) => void) | undefined;
  private dead = false;
  private timer: NodeJS.Timeout | undefined;
  /** Why the capture file failed, if it did (worker-written capture). */
  captureError: string | undefined;

  constructor(private readonly options: CheckingOptions) {
    const data: TrafficOptions = { capture: options.capture, redact: options.redact, check: options.check };
    if (options.worker) {
      this.worker = startWorker(options.captureFile ? { ...data, captureFile: options.captureFile } : data);
      this.worker.on("message", (reply: Reply) => this.answered(reply));
      this.worker.on("error", (err) => this.fail(err.message));
      this.worker.on("exit", (code) => {
        if (!this.dead && this.finishing === undefined) this.fail(`worker exited with code ${code}`);
        this.finishing?.();
      });
      this.worker.unref();
    } else {
      this.inline = new TrafficProcessor(data, options.line, options.finding);
    }
  }

  /** Totals of the check so far (undefined without checking). */
  get stats(): ConnectionsStats | undefined {
    return this.inline ? this.inline.stats : this.latest;
  }

  /** A forwarded message (copied: the caller's buffer may be reused). */
  message(conn: string, dir: "c2s" | "s2c", data: Buffer): void {
    const copy = new Uint8Array(data.length);
    copy.set(data);
    this.transfer.push(copy.buffer);
    this.push({ kind: "message", conn, dir, ts: Date.now(), data: copy }, data.length);
  }

  event(conn: string, event: "open" | "close", detail?: Record<string, unknown>): void {
    this.push({ kind: "event", conn, ts: Date.now(), event, ...(detail ? { detail } : {}) }, 0);
  }

  /** Hand over what is queued now (also done by a timer, or when the batch is big). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.items.length === 0) return;
    const items = this.items;
    const transfer = this.transfer;
    const bytes = this.bytes;
    this.items = [];
    this.transfer = [];
    this.bytes = 0;
    if (this.inline) {
      for (const item of items) this.inline.handle(item);
      this.options.budget.release(bytes);
      return;
    }
    if (this.dead || !this.worker) {
      this.options.budget.release(bytes);
      return;
    }
    this.inFlight += bytes;
    // Referenced while it has work, so the process waits for the capture and the findings.
    this.worker.ref();
    this.worker.postMessage({ type: "batch", items, bytes }, transfer);
  }

  /** Everything handed over and processed; unanswered requests reported; the worker stopped. */
  async finish(): Promise<void> {
    this.flush();
    if (this.inline) {
      this.inline.finish();
      return;
    }
    if (this.dead || !this.worker) return;
    const worker = this.worker;
    await new Promise<void>((resolve) => {
      this.finishing = resolve;
      worker.ref();
      worker.postMessage({ type: "finish" });
    });
    await worker.terminate();
  }

  private push(item: TrafficItem, bytes: number): void {
    this.items.push(item);
    this.bytes += bytes;
    this.options.budget.add(bytes);
    if (this.inline) {
      // Inline: after this turn's forwarding, as before the worker existed.
      if (this.items.length === 1) setImmediate(() => this.flush());
    } else if (this.bytes >= FLUSH_BYTES || this.items.length >= FLUSH_ITEMS) {
      this.flush();
    } else {
      this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
    }
  }

  private answered(reply: Reply): void {
    for (const line of reply.lines) this.options.line(line);
    for (const f of reply.findings) this.options.finding(f);
    if (reply.stats) this.latest = reply.stats;
    this.inFlight -= reply.bytes;
    this.options.budget.release(reply.bytes);
    if (reply.error) this.captureError = reply.error;
    if (reply.type === "done") {
      if (this.inFlight === 0 && this.finishing === undefined) this.worker?.unref();
    } else {
      this.dead = true;
      this.finishing?.();
    }
  }

  private fail(message: string): void {
    if (this.dead) return;
    this.dead = true;
    this.options.budget.release(this.inFlight);
    this.inFlight = 0;
    this.options.failed(`checking worker failed, the capture and the check stop here: ${message}`);
  }
}
