/**
 * CaptureValidator: checks recorded traffic frame by frame, as a peer would see it. It reassembles chunked
 * messages per direction and id (runtime/framing's Reassembler), decodes `data`, validates frames and payloads,
 * pairs replies with requests through `replyto` (a c2s request is answered by an s2c frame) to pick the reply
 * schema, and at `finish()` reports what never completed or was never answered.
 *
 * Memory is bounded: half-received messages (their number and the characters they hold together), waiting
 * requests and broken-message markers each have a cap; when a cap is hit the oldest entry is evicted (with a
 * finding when that loses a check), never an abort, so memory stays flat on any capture. The caps are those of
 * the run, not of one validator: validators given the same `pool` (./pool.ts; every connection of a capture)
 * share them, so a capture cannot multiply them by using many connection ids.
 */
import { Reassembler, reassemblyFault, type ReassemblyFault, type WireFrame, type WireMessage } from "../runtime/framing.js";
import { OpenFlowError } from "../runtime/errors.js";
import { defaultCatalog, type Catalog, type CommandInfo } from "./catalog.js";
import { finding, type Direction, type Finding, type FindingCode, type Origin } from "./findings.js";
import { checkFrame } from "./frame.js";
import { decodeMessageData, isKnownCommand, unknownCommandText, validateCommandPayload } from "./payload.js";
import { CapturePool } from "./pool.js";
import { RobotChecker } from "./robot.js";

export interface CaptureLimits {
  /** Most messages half-received at once; beyond it the oldest is evicted (incomplete-message). */
  maxPendingMessages: number;
  /** A half-received message whose first chunk is this many frames back is evicted (incomplete-message). */
  pendingWindowFrames: number;
  /**
   * Most characters half-received messages hold together (chunk data plus one per expected chunk); beyond it
   * the oldest are evicted (incomplete-message) and their remaining chunks skipped.
   */
  maxPendingChars: number;
  /** Largest joined `data` of one message, in UTF-16 code units (message-too-large). */
  maxMessageChars: number;
  /** Largest `count` accepted (message-too-large). */
  maxChunks: number;
  /** Most requests waiting for their reply; beyond it the oldest is reported unanswered and forgotten. */
  maxWaitingRequests: number;
}

export const defaultCaptureLimits: CaptureLimits = {
  maxPendingMessages: 1_000,
  pendingWindowFrames: 1_000_000,
  maxPendingChars: 64 * 1024 * 1024,
  maxMessageChars: 64 * 1024 * 1024,
  maxChunks: 100_000,
  maxWaitingRequests: 100_000,
};

export interface CaptureOptions {
  /** Input name put on findings (file path, `-` for stdin). */
  file?: string;
  /** Receives each finding as soon as it is known. Without it, findings are collected in `findings`. */
  onFinding?: (finding: Finding) => void;
  /** Check request/reply pairing (unanswered, unknown-reply). Default true; off for a lone frame. */
  correlate?: boolean;
  limits?: Partial<CaptureLimits>;
  catalog?: Catalog;
  /** Caps shared with other validators of the same run (default: this validator's own). */
  pool?: CapturePool;
}

/** Where a pushed frame came from. */
export interface PushMeta {
  dir?: Direction | undefined;
  /** Input name; defaults to the validator's `file`. */
  source?: string | undefined;
  /** 1-based line number. */
  line?: number | undefined;
  /** Connection id put on findings (captures of several connections: see ./connections.ts). */
  connection?: string | undefined;
}

export interface CaptureStats {
  frames: number;
  messages: number;
  errors: number;
  warnings: number;
}

type DirKey = Direction | "";

interface PendingMessage {
  dir: DirKey;
  id: string;
  command: string;
  replyto: string | undefined;
  count: number;
  got: Uint8Array;
  received: number;
  maxIndex: number;
  startedAt: number;
  origin: Origin;
}

interface Broken {
  count: number;
  original: number;
  ttl: number;
}

interface Waiting {
  dir: DirKey;
  id: string;
  command: string;
  info: CommandInfo | undefined;
  origin: Origin;
  /** The request was damaged (chunk errors): pair its reply but skip the reply's payload check. */
  broken: boolean;
}

const OPTIONAL_WAITING_CAP = 10_000;
const BROKEN_CAP = 10_000;
const SWEEP_EVERY = 4_096;

function opposite(dir: DirKey): DirKey {
  return dir === "c2s" ? "s2c" : dir === "s2c" ? "c2s" : "";
}

function keyOf(dir: DirKey, id: string): string {
  return dir === "" ? id : `${dir}\u0000${id}`;
}

export class CaptureValidator {
  readonly findings: Finding[] = [];
  readonly stats: CaptureStats = { frames: 0, messages: 0, errors: 0, warnings: 0 };
  readonly limits: CaptureLimits;
  private readonly file: string | undefined;
  private readonly emitFn: ((f: Finding) => void) | undefined;
  private readonly correlate: boolean;
  private readonly catalog: Catalog;
  private readonly reassemblers: Record<DirKey, Reassembler>;
  /** Half-received messages by dir+id, in arrival order of their first chunk (oldest first). */
  private readonly partials = new Map<string, PendingMessage>();
  /** Bytes of the partials' chunk bitmaps (`got`), counted against maxPendingChars with the chunk data. */
  private partialSlots = 0;
  /** Messages dropped after a chunk error: their remaining chunks are swallowed instead of cascading. */
  private readonly broken = new Map<string, Broken>();
  /** Requests that expect a reply, by dir+id, oldest first. */
  private readonly waiting = new Map<string, Waiting>();
  /** Requests that need no reply, remembered (bounded) so an optional reply still pairs. */
  private readonly optional = new Map<string, Waiting>();
  private ordinal = 0;
  private finished = false;
  /** Robot commands inside queuemessage data: their schemas and each correlation id's order. */
  private readonly robots = new RobotChecker();
  private readonly pool: CapturePool;
  /** This validator's pending characters as last added to the pool. */
  private chars = 0;

  constructor(options: CaptureOptions = {}) {
    this.file = options.file;
    this.emitFn = options.onFinding;
    this.correlate = options.correlate ?? true;
    this.catalog = options.catalog ?? defaultCatalog();
    this.limits = { ...defaultCaptureLimits, ...options.limits };
    this.pool = options.pool ?? new CapturePool();
    const reassemblerLimits = {
      maxMessageChars: this.limits.maxMessageChars,
      maxChunks: this.limits.maxChunks,
      // Eviction is ours (oldest first, with a finding); the reassembler's own cap must never trigger first.
      maxPartialMessages: this.limits.maxPendingMessages + 1,
      // The clock passed to the reassembler is the frame ordinal, so its timeout is a distance in frames.
      partialTimeoutMs: this.limits.pendingWindowFrames,
    };
    this.reassemblers = { c2s: new Reassembler(reassemblerLimits), s2c: new Reassembler(reassemblerLimits), "": new Reassembler(reassemblerLimits) };
  }

  /**
   * Feed one capture line (JSON text of a frame or of `{"dir","frame"}`) or an already parsed frame/envelope.
   * Findings go to `onFinding` (or `findings`).
   */
  push(input: string | unknown, meta: PushMeta = {}): void {
    if (this.finished) throw new OpenFlowError("usage", "CaptureValidator.push after finish()");
    const origin: Origin = {};
    const file = meta.source ?? this.file;
    if (file !== undefined) origin.file = file;
    if (meta.line !== undefined) origin.line = meta.line;
    if (meta.connection !== undefined) origin.connection = meta.connection;
    let value: unknown = input;
    if (typeof input === "string") {
      try {
        value = JSON.parse(input);
      } catch (err) {
        this.emit(finding("not-json", `not JSON: ${(err as Error).message}`, origin));
        return;
      }
    }
    let dir: DirKey = meta.dir ?? "";
    if (typeof value === "object" && value !== null && !Array.isArray(value) && "frame" in value && !("command" in value)) {
      const envelope = value as { dir?: unknown; frame?: unknown };
      if (envelope.dir !== undefined && envelope.dir !== "c2s" && envelope.dir !== "s2c") {
        this.emit(finding("envelope-invalid", `capture line /dir must be "c2s" or "s2c", got ${JSON.stringify(envelope.dir)}`, origin, { pointer: "/dir" }));
        return;
      }
      let frame = envelope.frame;
      if (typeof frame === "string") {
        // A recorder writes a websocket message that is not a JSON object as its raw text (proxy/, serve --record);
        // it is checked as the peer would read it.
        try {
          frame = JSON.parse(frame);
        } catch (err) {
          if (envelope.dir === "c2s" || envelope.dir === "s2c") origin.dir = envelope.dir;
          this.emit(finding("not-json", `message is not JSON: ${(err as Error).message}`, origin));
          return;
        }
      } else if (typeof frame !== "object" || frame === null || Array.isArray(frame)) {
        this.emit(finding("envelope-invalid", "capture line /frame must be a frame object (or the raw text of the message)", origin, { pointer: "/frame" }));
        return;
      }
      if (envelope.dir !== undefined) dir = envelope.dir;
      value = frame;
    }
    if (dir !== "") origin.dir = dir;
    this.pushFrame(value, dir, origin);
    this.syncChars();
  }

  /** Report this validator's pending characters to the pool. */
  private syncChars(): void {
    const now = this.pendingChars();
    if (now !== this.chars) {
      this.pool.addChars(now - this.chars);
      this.chars = now;
    }
  }

  /**
   * End of input: report half-received messages and unanswered requests. Returns every finding when collecting.
   * `end` names the end in those findings (default "the end of the input"; a closed connection's validator says so).
   */
  finish(end = "the end of the input"): Finding[] {
    if (this.finished) return this.findings;
    this.finished = true;
    for (const partial of [...this.partials.values()]) this.closePartial(partial, `at ${end}`);
    for (const r of Object.values(this.reassemblers)) r.clear();
    if (this.correlate) {
      // A damaged request was reported already; nobody could have answered it.
      for (const w of this.waiting.values()) if (!w.broken) this.reportUnanswered(w, `by ${end}`);
    }
    for (const w of this.waiting.values()) this.pool.waiting.delete(w);
    for (const o of this.optional.values()) this.pool.optional.delete(o);
    for (const b of this.broken.values()) this.pool.broken.delete(b);
    this.waiting.clear();
    this.optional.clear();
    this.broken.clear();
    this.syncChars();
    return this.findings;
  }

  /** True when no error finding was emitted (warnings allowed unless strict). */
  ok(strict = false): boolean {
    return this.stats.errors === 0 && (!strict || this.stats.warnings === 0);
  }

  private emit(f: Finding): void {
    if (f.severity === "error") this.stats.errors++;
    else this.stats.warnings++;
    if (this.emitFn) this.emitFn(f);
    else this.findings.push(f);
  }

  private pushFrame(value: unknown, dir: DirKey, origin: Origin): void {
    const ordinal = ++this.ordinal;
    this.stats.frames++;
    const checked = checkFrame(value, origin);
    for (const f of checked.findings) this.emit(f);
    const frame = checked.frame;
    if (!frame) {
      // Unusable frame of a message we can still name: drop that message once instead of cascading findings.
      const raw = value as Record<string, unknown> | null;
      if (raw && typeof raw === "object" && typeof raw["id"] === "string" && typeof raw["command"] === "string" && raw["command"] !== "") {
        const count = typeof raw["count"] === "number" ? raw["count"] : Number(raw["count"] ?? 1);
        const index = typeof raw["index"] === "number" ? raw["index"] : Number(raw["index"] ?? 0);
        const replyto = typeof raw["replyto"] === "string" ? raw["replyto"] : undefined;
        this.abandon(dir, raw["id"], raw["command"], replyto, count, index, origin);
      }
      return;
    }
    const count = frame.count ?? 1;
    const index = frame.index ?? 0;
    const id = frame.id;
    if (index === 0 || count === 1) {
      if (frame.replyto === "") this.emit(finding("replyto-empty", 'frame /replyto is "": servers read it as a request, the official JS client as a reply it drops (Q9); omit it or send null', origin, { id, command: frame.command, pointer: "/replyto" }));
      if (frame.command !== frame.command.toLowerCase()) this.emit(finding("command-case", `command ${JSON.stringify(frame.command)} is not lower case (servers lower-case it; case-sensitive peers reject it, Q13)`, origin, { id, command: frame.command, pointer: "/command" }));
    }
    if (ordinal % SWEEP_EVERY === 0) this.sweep(ordinal);

    const key = keyOf(dir, id);
    const broken = this.broken.size > 0 ? this.broken.get(key) : undefined;
    if (broken) {
      const same = broken.count === count || broken.original === count;
      if (same && --broken.ttl > 0 && index !== broken.original - 1) return;
      this.broken.delete(key);
      this.pool.broken.delete(broken);
      if (same) return;
    }

    const reassembler = this.reassemblers[dir];
    if (count === 1 && this.partials.size === 0) {
      // Fast path: nothing half-received, a single-chunk frame is a whole message.
      this.complete(this.pushReassembler(reassembler, frame, ordinal, key, dir, origin), dir, origin);
      return;
    }
    let partial = this.partials.get(key);
    if (partial) {
      if (partial.count === count && partial.got[index] === 1) {
        this.emit(finding("chunk-duplicate", `chunk ${index} of ${count} of message ${id} arrived twice; the repeat is ignored`, origin, { id, command: frame.command, pointer: "/index" }));
        return;
      }
    } else if (count > 1) {
      if (count > this.limits.maxChunks) {
        // Let the reassembler reject it (message-too-large).
        this.complete(this.pushReassembler(reassembler, frame, ordinal, key, dir, origin), dir, origin);
        return;
      }
      if (this.pool.partials.size >= this.limits.maxPendingMessages) {
        this.pool.partials.evictOldest(`because more than ${this.limits.maxPendingMessages} messages were half-received (evicted)`);
      }
      partial = {
        dir,
        id,
        command: frame.command,
        replyto: frame.replyto || undefined,
        count,
        got: new Uint8Array(count),
        received: 0,
        maxIndex: -1,
        startedAt: ordinal,
        origin,
      };
      this.partials.set(key, partial);
      this.pool.partials.add(partial, (reason) => this.evictPartial(partial as PendingMessage, reason));
      this.partialSlots += count;
    }
    const message = this.pushReassembler(reassembler, frame, ordinal, key, dir, origin);
    if (partial && this.partials.get(key) === partial) {
      if (message) {
        this.deletePartial(key);
      } else {
        partial.got[index] = 1;
        partial.received++;
        if (index > partial.maxIndex) partial.maxIndex = index;
        this.capPendingChars();
        return;
      }
    }
    this.complete(message, dir, origin);
  }

  /** Push into the reassembler; its errors become findings and mark the message broken. */
  private pushReassembler(reassembler: Reassembler, frame: WireFrame, ordinal: number, key: string, dir: DirKey, origin: Origin): WireMessage | undefined {
    try {
      const result = reassembler.push(frame, ordinal);
      return result.done ? result.message : undefined;
    } catch (err) {
      const e = OpenFlowError.from(err);
      const code = classify(e);
      this.emit(finding(code, e.message, origin, { id: frame.id, command: frame.command, pointer: e.pointer }));
      this.abandon(dir, frame.id, frame.command, frame.replyto ?? undefined, frame.count ?? 1, frame.index ?? 0, origin);
      return undefined;
    }
  }

  /**
   * Give up on the message a bad frame belongs to: forget its chunks, swallow its remaining chunks, and still pair
   * it (the command is on every frame), so one damaged message gives one finding.
   */
  private abandon(dir: DirKey, id: string, command: string, replyto: string | undefined, count: number, index: number, origin: Origin): void {
    const key = keyOf(dir, id);
    const partial = this.partials.get(key);
    if (partial) {
      this.deletePartial(key);
      this.reassemblers[dir].drop(id);
    }
    const original = partial?.count ?? count;
    if (Number.isInteger(count) && original > 1 && index !== original - 1) this.markBroken(key, count, original);
    const to = replyto || partial?.replyto;
    if (to) this.takeWaiting(opposite(dir), to);
    else this.addWaiting(dir, id, command, origin, true);
  }

  /** Swallow the rest of a dropped message: frames of that id whose count is the bad frame's or the original's. */
  private markBroken(key: string, count: number, original: number): void {
    if (this.pool.broken.size >= BROKEN_CAP) this.pool.broken.evictOldest("");
    const earlier = this.broken.get(key);
    if (earlier) this.pool.broken.delete(earlier);
    const entry: Broken = { count, original, ttl: Math.max(count, original) };
    this.broken.set(key, entry);
    this.pool.broken.add(entry, () => {
      if (this.broken.get(key) === entry) this.broken.delete(key);
    });
  }

  /** A whole message: decode, validate, correlate. */
  private complete(message: WireMessage | undefined, dir: DirKey, origin: Origin): void {
    if (!message) return;
    this.stats.messages++;
    const { id, command } = message;
    const decoded = decodeMessageData(command, message.data);
    const extra = { id, command };
    const replyto = message.replyto;
    if (replyto) {
      const request = this.correlate ? this.takeWaiting(opposite(dir), replyto) : undefined;
      if (this.correlate && !request) {
        this.emit(finding("unknown-reply", `reply to ${replyto}: no request with that id was seen${dir === "" ? "" : ` in direction ${opposite(dir)}`}`, origin, { ...extra, pointer: "/replyto" }));
      }
      const lc = command.toLowerCase();
      let schemaCommand: string | undefined = lc;
      if (request && lc !== "error") {
        const expected = (request.info?.replyCommand ?? request.command).toLowerCase();
        if (lc !== expected && lc !== request.command.toLowerCase()) {
          this.emit(finding("reply-command-mismatch", `reply command ${JSON.stringify(command)} to ${request.command} request ${request.id} should be ${JSON.stringify(expected)} or "error"`, origin, { ...extra, pointer: "/command" }));
        } else {
          schemaCommand = request.info?.command ?? lc;
        }
      }
      if (request?.broken) return;
      if (!decoded.ok) {
        this.emit(finding("data-not-json", `${command} reply data is not JSON: ${decoded.error}`, origin, { ...extra, pointer: "/data" }));
        return;
      }
      if (lc === "error") {
        this.validatePayload("error", "reply", decoded.payload, origin, extra);
        return;
      }
      if (!isKnownCommand(schemaCommand)) {
        // A paired reply's unknown command was reported on its request (or as a mismatch).
        if (!request) this.emit(finding("unknown-command", unknownCommandText(command), origin, extra));
        return;
      }
      const info = this.catalog.get(schemaCommand);
      if (info && !info.hasReply) return;
      this.validatePayload(schemaCommand, "reply", decoded.payload, origin, extra);
      return;
    }

    // A request (or a command started by the server).
    const info = this.catalog.get(command);
    const known = isKnownCommand(command);
    if (!known) {
      this.emit(finding("unknown-command", unknownCommandText(command), origin, extra));
    } else if (info?.deprecated) {
      this.emit(finding("deprecated-command", `command ${info.command} is deprecated: the latest server no longer handles it`, origin, extra));
    }
    if (!decoded.ok) {
      this.emit(finding("data-not-json", `${command} data is not JSON: ${decoded.error}`, origin, { ...extra, pointer: "/data" }));
    } else if (known) {
      this.validatePayload(info?.command ?? command, "request", decoded.payload, origin, extra);
      if (command.toLowerCase() === "queuemessage") for (const f of this.robots.check(decoded.payload, origin, extra)) this.emit(f);
    }
    this.addWaiting(dir, id, command, origin, false);
  }

  private validatePayload(command: string, kind: "request" | "reply", payload: unknown, origin: Origin, extra: { id: string; command: string }): void {
    const found = validateCommandPayload(command, kind, payload, origin, { id: extra.id });
    for (const f of found) {
      f.command = extra.command;
      this.emit(f);
    }
  }

  private addWaiting(dir: DirKey, id: string, command: string, origin: Origin, broken: boolean): void {
    if (!this.correlate) return;
    const info = this.catalog.get(command);
    const key = keyOf(dir, id);
    const entry: Waiting = { dir, id, command, info, origin, broken };
    if (info?.replyExpected) {
      const earlier = this.waiting.get(key);
      if (earlier) {
        this.emit(finding("id-reused", `request id ${id} reused while the ${earlier.command} request from line ${earlier.origin.line ?? "?"} is still unanswered`, origin, { id, command }));
        this.waiting.delete(key);
        this.pool.waiting.delete(earlier);
      } else if (this.pool.waiting.size >= this.limits.maxWaitingRequests) {
        this.pool.waiting.evictOldest(`while more than ${this.limits.maxWaitingRequests} requests were waiting (evicted)`);
      }
      this.waiting.set(key, entry);
      this.pool.waiting.add(entry, (reason) => {
        if (this.waiting.get(key) !== entry) return;
        this.waiting.delete(key);
        if (!entry.broken) this.reportUnanswered(entry, reason);
      });
    } else {
      if (this.pool.optional.size >= OPTIONAL_WAITING_CAP) this.pool.optional.evictOldest("");
      const earlier = this.optional.get(key);
      if (earlier) this.pool.optional.delete(earlier);
      this.optional.delete(key);
      this.optional.set(key, entry);
      this.pool.optional.add(entry, () => {
        if (this.optional.get(key) === entry) this.optional.delete(key);
      });
    }
  }

  private takeWaiting(dir: DirKey, id: string): Waiting | undefined {
    const key = keyOf(dir, id);
    const w = this.waiting.get(key);
    if (w) {
      this.waiting.delete(key);
      this.pool.waiting.delete(w);
      return w;
    }
    const o = this.optional.get(key);
    if (o) {
      this.optional.delete(key);
      this.pool.optional.delete(o);
    }
    return o;
  }

  private reportUnanswered(w: Waiting, when: string): void {
    if (w.dir === "s2c") {
      this.emit(finding("unacknowledged-push", `server-started ${w.command} ${w.id} was never answered by the client ${when}; the server waits for the reply before acking the message`, w.origin, { id: w.id, command: w.command }));
    } else {
      this.emit(finding("unanswered-request", `${w.command} request ${w.id} got no reply ${when}`, w.origin, { id: w.id, command: w.command }));
    }
  }

  private sweep(now: number): void {
    if (this.partials.size === 0) return;
    const oldest = this.partials.values().next();
    if (oldest.done || now - oldest.value.startedAt < this.limits.pendingWindowFrames) return;
    for (const dir of ["c2s", "s2c", ""] as const) {
      for (const e of this.reassemblers[dir].sweep(now)) {
        const partial = e.id === undefined ? undefined : this.partials.get(keyOf(dir, e.id));
        if (partial) this.closePartial(partial, `after ${this.limits.pendingWindowFrames} frames (evicted)`);
      }
    }
  }

  private deletePartial(key: string): void {
    const partial = this.partials.get(key);
    if (!partial) return;
    this.partials.delete(key);
    this.pool.partials.delete(partial);
    this.partialSlots -= partial.count;
  }

  /** Characters held by half-received messages: chunk data in the reassemblers plus the chunk bitmaps. */
  private pendingChars(): number {
    return this.reassemblers.c2s.pendingChars + this.reassemblers.s2c.pendingChars + this.reassemblers[""].pendingChars + this.partialSlots;
  }

  /**
   * Evict the oldest half-received messages of the run (of any connection sharing the pool) until they hold at most
   * maxPendingChars together; their later chunks are skipped.
   */
  private capPendingChars(): void {
    const max = this.limits.maxPendingChars;
    this.syncChars();
    while (this.pool.chars > max && this.pool.partials.evictOldest(`because half-received messages held more than ${max} characters (evicted; its later chunks are skipped)`)) {
      // evictPartial synced the owner's characters.
    }
  }

  /** The pool evicts one of this validator's half-received messages (a cap of the run was hit). */
  private evictPartial(partial: PendingMessage, reason: string): void {
    const key = keyOf(partial.dir, partial.id);
    if (this.partials.get(key) !== partial) return;
    this.reassemblers[partial.dir].drop(partial.id);
    this.closePartial(partial, reason);
    if (reason.includes("characters")) this.markBroken(key, partial.count, partial.count);
    this.syncChars();
  }

  /** Report a message that will never complete, and forget it. */
  private closePartial(partial: PendingMessage, when: string): void {
    this.deletePartial(keyOf(partial.dir, partial.id));
    const missing: number[] = [];
    for (let i = 0; i < partial.count && missing.length < 10; i++) if (partial.got[i] !== 1) missing.push(i);
    const more = partial.count - partial.received - missing.length;
    const list = missing.join(", ") + (more > 0 ? ` and ${more} more` : "");
    const gap = missing.length > 0 && (missing[0] as number) < partial.maxIndex;
    const code: FindingCode = gap ? "chunk-missing" : "incomplete-message";
    const text = gap
      ? `message ${partial.id} (${partial.command}) lost chunk ${list} of ${partial.count} (later chunks arrived); it never completed ${when}`
      : `message ${partial.id} (${partial.command}) was incomplete ${when}: ${partial.received} of ${partial.count} chunks, missing ${list}`;
    this.emit(finding(code, text, partial.origin, { id: partial.id, command: partial.command, pointer: "/index" }));
  }
}

const faultCodes: Record<ReassemblyFault, FindingCode> = {
  "count-invalid": "frame-invalid",
  "index-out-of-range": "index-out-of-range",
  "too-many-chunks": "message-too-large",
  "too-large": "message-too-large",
  "too-many-partial": "incomplete-message",
  "chunk-mismatch": "chunk-mismatch",
  "chunk-duplicate": "chunk-duplicate",
};

function classify(e: OpenFlowError): FindingCode {
  const fault = reassemblyFault(e);
  return fault === undefined ? "frame-invalid" : faultCodes[fault];
}
