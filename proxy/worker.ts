/**
 * The checking worker thread of the proxy: runs the recorder and the checker (./traffic.ts) over the batches of
 * traffic the proxy posts, and answers each batch with the capture lines and findings it produced, so parsing,
 * validation, redaction and serialisation never delay forwarding on the proxy's own thread.
 *
 * Protocol (structured clone): in `{type:"batch", items}` and `{type:"finish"}`; out
 * `{type:"done", lines, findings, stats}` per batch and `{type:"finished", lines, findings, stats}`.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { Finding } from "../validator/findings.js";
import { TrafficProcessor, type TrafficItem, type TrafficOptions } from "./traffic.js";

const port = parentPort;
if (!port) throw new Error("proxy/worker.ts runs as a worker thread only");

let lines: string[] = [];
let findings: Finding[] = [];
const processor = new TrafficProcessor(
  workerData as TrafficOptions,
  (line) => lines.push(line),
  (f) => findings.push(f),
);

function reply(type: "done" | "finished"): void {
  port?.postMessage({ type, lines, findings, stats: processor.stats });
  lines = [];
  findings = [];
}

port.on("message", (msg: { type: "batch"; items: TrafficItem[] } | { type: "finish" }) => {
  if (msg.type === "batch") {
    for (const item of msg.items) processor.handle(item);
    reply("done");
  } else {
    processor.finish();
    reply("finished");
  }
});
