/**
 * The checking worker thread of the proxy: runs the recorder and the checker (./traffic.ts) over the batches of
 * traffic the proxy posts, so parsing, validation, redaction and serialisation never delay forwarding on the
 * proxy's own thread. With a capture file path it also writes the capture itself, so the lines never travel back.
 *
 * Replies are coalesced: what the batches produced (lines when the proxy writes them, findings, the bytes now
 * processed) goes back at most every REPLY_MS, or at once when much is waiting, so the proxy's thread handles a
 * few dozen replies a second however many messages pass. A batch is acknowledged only once the capture file has
 * taken its lines without being behind: a slow disk holds the bytes in the proxy's budget (back-pressure).
 *
 * Protocol (structured clone): in `{type:"batch", items, bytes}` and `{type:"finish"}`; out
 * `{type:"done", lines, findings, stats, bytes}` and finally `{type:"finished", ..., error?}`.
 */
import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";
import { parentPort, workerData } from "node:worker_threads";
import { openCaptureFile, type CaptureFile } from "../validator/capture-file.js";
import type { Finding } from "../validator/findings.js";
import { TrafficProcessor, type TrafficItem, type TrafficOptions } from "./traffic.js";

const REPLY_MS = 20;
const REPLY_BYTES = 1024 * 1024;

/**
 * Checking must never take the CPU from forwarding (on a 2-core CI box the worker, the proxy, the client and the
 * server compete): on Linux, where a thread has its own nice value, this thread runs at nice 10. Elsewhere it
 * runs at the process's priority.
 */
function lowerPriority(): void {
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    if (Number.isInteger(tid) && tid > 0 && tid !== process.pid) setPriority(tid, 10);
  } catch {
    // not Linux, or not allowed: the worker keeps the process's priority
  }
}
lowerPriority();

const port = parentPort;
if (!port) throw new Error("proxy/worker.ts runs as a worker thread only");
const options = workerData as TrafficOptions & { captureFile?: string };

let file: CaptureFile | undefined;
let fileError: string | undefined;
const opened = options.captureFile
  ? openCaptureFile(options.captureFile).then(
      (f) => void (file = f),
      (err: Error) => void (fileError = err.message),
    )
  : Promise.resolve();

let lines: string[] = [];
let findings: Finding[] = [];
let acked = 0;
let timer: NodeJS.Timeout | undefined;
const processor = new TrafficProcessor(
  options,
  (line) => {
    if (options.captureFile) file?.write(line);
    else lines.push(line);
  },
  (f) => findings.push(f),
);

function reply(type: "done" | "finished", extra: Record<string, unknown> = {}): void {
  if (timer) clearTimeout(timer);
  timer = undefined;
  port?.postMessage({ type, lines, findings, stats: processor.stats, bytes: acked, ...extra });
  lines = [];
  findings = [];
  acked = 0;
}

/** Reply now when much is waiting or the file is behind... once it drained; else within REPLY_MS. */
function schedule(): void {
  if (file?.backedUp) return; // the drain handler replies
  if (acked >= REPLY_BYTES || lines.length >= 1_000) reply("done");
  else timer ??= setTimeout(() => reply("done"), REPLY_MS);
}

let chain = opened.then(() => file?.onDrain(() => reply("done")));

port.on("message", (msg: { type: "batch"; items: TrafficItem[]; bytes: number } | { type: "finish" }) => {
  chain = chain.then(async () => {
    if (msg.type === "batch") {
      for (const item of msg.items) processor.handle(item);
      acked += msg.bytes;
      schedule();
      return;
    }
    processor.finish();
    let error = fileError;
    try {
      await file?.close();
    } catch (err) {
      error ??= (err as Error).message;
    }
    reply("finished", error ? { error } : {});
  });
});
