/**
 * Captures of several connections in one file (written by `openflow-spec proxy` and `serve --record`): each line
 * may name its connection (`"conn"`), and a line `{"conn", "event": "close", ...}` marks the end of one. Frames are
 * routed to one CaptureValidator per connection, so ids, reassembly and request/reply pairing never mix across
 * connections; a closed connection is finished at once (its unanswered requests are reported then) and forgotten.
 * Lines without `conn` go to one shared validator, exactly as before connections existed.
 *
 * The memory caps (`limits`) are the run's: every connection's validator draws on one CapturePool (./pool.ts), so
 * a capture spread over many connection ids holds no more than one with a single connection.
 */
import { OpenFlowError } from "../runtime/errors.js";
import { CaptureValidator, type CaptureOptions, type CaptureStats, type PushMeta } from "./capture.js";
import { finding, type Finding, type Origin } from "./findings.js";
import { CapturePool } from "./pool.js";

/** Connection events a capture may hold between frames. */
export const captureEvents = ["open", "close"] as const;
export type CaptureEvent = (typeof captureEvents)[number];

export interface ConnectionsOptions extends CaptureOptions {
  /** Most connections open at once; beyond it the oldest is finished (as if it had closed). Default 10 000. */
  maxOpenConnections?: number;
}

export interface ConnectionsStats extends CaptureStats {
  /** Connections seen (lines naming a `conn`). */
  connections: number;
}

export class ConnectionsValidator {
  readonly stats: ConnectionsStats = { frames: 0, messages: 0, errors: 0, warnings: 0, connections: 0 };
  /** Findings, when no `onFinding` was given. */
  readonly findings: Finding[] = [];
  private readonly open = new Map<string, CaptureValidator>();
  private shared: CaptureValidator | undefined;
  private readonly maxOpen: number;
  private readonly onFinding: (f: Finding) => void;
  private finished = false;
  /** The caps of the run, shared by every connection's validator. */
  readonly pool = new CapturePool();

  constructor(private readonly options: ConnectionsOptions = {}) {
    this.maxOpen = options.maxOpenConnections ?? 10_000;
    const forward = options.onFinding;
    this.onFinding = (f) => {
      if (f.severity === "error") this.stats.errors++;
      else this.stats.warnings++;
      if (forward) forward(f);
      else this.findings.push(f);
    };
  }

  /** One capture line (text) or an already parsed line/frame. */
  push(input: string | unknown, meta: PushMeta = {}): void {
    if (this.finished) throw new OpenFlowError("usage", "ConnectionsValidator.push after finish()");
    let value: unknown = input;
    if (typeof input === "string") {
      try {
        value = JSON.parse(input);
      } catch (err) {
        const origin: Origin = {};
        const file = meta.source ?? this.options.file;
        if (file !== undefined) origin.file = file;
        if (meta.line !== undefined) origin.line = meta.line;
        this.onFinding(finding("not-json", `not JSON: ${(err as Error).message}`, origin));
        return;
      }
    }
    const line = typeof value === "object" && value !== null && !Array.isArray(value) && !("command" in value) ? (value as Record<string, unknown>) : undefined;
    const conn = line && (typeof line.conn === "string" || typeof line.conn === "number") ? String(line.conn) : undefined;
    if (line && "event" in line && !("frame" in line)) {
      this.event(line.event, conn, meta);
      return;
    }
    const target = conn === undefined ? (this.shared ??= this.validator()) : this.connection(conn);
    this.count(target, () => target.push(value, conn === undefined ? meta : { ...meta, connection: conn }));
  }

  /** Finish one connection now (it closed): its half-received messages and unanswered requests are reported. */
  close(conn: string): void {
    const v = this.open.get(conn);
    if (!v) return;
    this.open.delete(conn);
    this.count(v, () => v.finish("the close of connection " + conn));
  }

  /** End of input: finish every connection still open. */
  finish(): Finding[] {
    if (this.finished) return this.findings;
    for (const conn of [...this.open.keys()]) this.close(conn);
    const shared = this.shared;
    if (shared) this.count(shared, () => shared.finish());
    this.finished = true;
    return this.findings;
  }

  ok(strict = false): boolean {
    return this.stats.errors === 0 && (!strict || this.stats.warnings === 0);
  }

  private event(event: unknown, conn: string | undefined, meta: PushMeta): void {
    if (typeof event !== "string" || !(captureEvents as readonly string[]).includes(event)) {
      const origin: Origin = {};
      const file = meta.source ?? this.options.file;
      if (file !== undefined) origin.file = file;
      if (meta.line !== undefined) origin.line = meta.line;
      if (conn !== undefined) origin.connection = conn;
      this.onFinding(finding("envelope-invalid", `capture line /event must be one of ${captureEvents.join(", ")}, got ${JSON.stringify(event)}`, origin, { pointer: "/event" }));
      return;
    }
    if (conn === undefined) return;
    if (event === "open") this.connection(conn);
    else this.close(conn);
  }

  private connection(conn: string): CaptureValidator {
    let v = this.open.get(conn);
    if (v) return v;
    if (this.open.size >= this.maxOpen) {
      const oldest = this.open.keys().next();
      if (!oldest.done) this.close(oldest.value);
    }
    v = this.validator();
    this.open.set(conn, v);
    this.stats.connections++;
    return v;
  }

  private validator(): CaptureValidator {
    const { maxOpenConnections: _unused, ...options } = this.options;
    return new CaptureValidator({ ...options, onFinding: this.onFinding, pool: this.pool });
  }

  /** Run `step` on `v` and add the frames and messages it counted to the totals. */
  private count(v: CaptureValidator, step: () => void): void {
    const frames = v.stats.frames;
    const messages = v.stats.messages;
    step();
    this.stats.frames += v.stats.frames - frames;
    this.stats.messages += v.stats.messages - messages;
  }
}
