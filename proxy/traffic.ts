/**
 * What the proxy does with each forwarded message besides forwarding it: record it (validator/recorder.ts, secrets
 * redacted) and check it (validator/connections.ts). The same code runs in the checking worker thread
 * (./worker.ts) and, when no worker is wanted, on the proxy's own thread (./checking.ts).
 */
import type { ConnectionsStats } from "../validator/connections.js";
import { ConnectionsValidator } from "../validator/connections.js";
import type { Direction, Finding } from "../validator/findings.js";
import { CaptureRecorder, parseWireMessage } from "../validator/recorder.js";

/** One thing that happened on a proxied connection, in order. */
export type TrafficItem =
  | { kind: "message"; conn: string; dir: Direction; ts: number; data: Uint8Array }
  | { kind: "event"; conn: string; ts: number; event: "open" | "close"; detail?: Record<string, unknown> };

export interface TrafficOptions {
  /** Write capture lines. */
  capture: boolean;
  /** Redact secrets in the capture (default true). */
  redact: boolean;
  /** Check the traffic. */
  check: boolean;
}

const decoder = new TextDecoder();

/** Records and checks traffic items; lines and findings go to the callbacks. */
export class TrafficProcessor {
  private readonly recorder: CaptureRecorder | undefined;
  private readonly checker: ConnectionsValidator | undefined;
  private ts = 0;

  constructor(options: TrafficOptions, line: (text: string) => void, finding: (f: Finding) => void) {
    this.recorder = options.capture ? new CaptureRecorder(line, { redact: options.redact, now: () => this.ts }) : undefined;
    this.checker = options.check ? new ConnectionsValidator({ onFinding: finding }) : undefined;
  }

  get stats(): ConnectionsStats | undefined {
    return this.checker ? { ...this.checker.stats } : undefined;
  }

  handle(item: TrafficItem): void {
    this.ts = item.ts;
    if (item.kind === "message") {
      const text = decoder.decode(item.data);
      const message = parseWireMessage(text);
      this.checker?.push({ conn: item.conn, dir: item.dir, frame: message });
      this.recorder?.message(item.conn, item.dir, message, text);
      return;
    }
    this.recorder?.event(item.conn, item.event, item.detail);
    if (item.event === "close") this.checker?.close(item.conn);
  }

  /** End: unanswered requests are reported, held capture lines written. */
  finish(): void {
    this.checker?.finish();
    this.recorder?.flush();
  }
}
