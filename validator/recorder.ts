/**
 * CaptureRecorder: writes live traffic in the capture format `openflow-spec validate` reads, one JSON line per
 * websocket message: `{"conn","ts","dir","frame"}` (`frame` is the frame object, or the raw text of a message
 * that is not a JSON object), plus `{"conn","ts","event":"open"|"close",...}` lines (see ./connections.ts).
 * Used by `openflow-spec proxy` and `serve --record`.
 *
 * Secrets are redacted by default (./redact.ts, field names from ./secrets.ts). A chunked message can split a
 * secret across frames, so its chunks are held until the last one arrives; the joined `data` is redacted and
 * cut again into the same number of chunks (same id, count and index; each line keeps its own timestamp). Held
 * chunks are bounded (`maxHeldMessages`, `maxHeldChars`): a message beyond them, or still incomplete when its
 * connection closes, is written with every chunk's `data` replaced by "[redacted]".
 *
 * Every line goes through one place (`frameLine`) that redacts the whole frame, so no path (a raw text message,
 * a chunk, a frame with duplicate keys whose raw text differs from its parse) writes a secret. The received text
 * is copied verbatim only when it cannot name a secret at all (./redact.ts `mayHoldSecret`).
 */
import type { Direction } from "./findings.js";
import type { CaptureEvent } from "./connections.js";
import { mayHoldSecret, REDACTED, redactFrame, redactText } from "./redact.js";
import { secretFieldNames } from "./secrets.js";

/** A websocket message as the recorder takes it: the parsed frame object, or the raw text when it is not one. */
export type RecordedMessage = Record<string, unknown> | string;

/** Parse a websocket text message for recording and checking: the frame object, or the text itself. */
export function parseWireMessage(text: string): RecordedMessage {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // not JSON: recorded as text
  }
  return text;
}

export interface RecorderOptions {
  /** Replace secrets (default true). */
  redact?: boolean;
  /** Secret field names (lower case); default: derived from this package's schemas/. */
  secretFields?: ReadonlySet<string>;
  /** Clock for `ts` (default Date.now). */
  now?: () => number;
  /** Most chunked messages held for redaction at once (default 1000). */
  maxHeldMessages?: number;
  /** Most `data` characters held for redaction at once (default 64 Mi). */
  maxHeldChars?: number;
}

interface HeldLine {
  ts: string;
  frame: Record<string, unknown>;
  raw: string | undefined;
}

interface Held {
  conn: string;
  dir: Direction;
  count: number;
  lines: HeldLine[];
  /** `data` of each index, first arrival. */
  parts: (string | undefined)[];
  received: number;
  chars: number;
}

export class CaptureRecorder {
  private readonly redact: boolean;
  private readonly secrets: ReadonlySet<string>;
  private readonly now: () => number;
  private readonly maxHeldMessages: number;
  private readonly maxHeldChars: number;
  private readonly held = new Map<string, Held>();
  private heldChars = 0;

  /** `write` gets each line, terminated by "\n". */
  constructor(
    private readonly write: (line: string) => void,
    options: RecorderOptions = {},
  ) {
    this.redact = options.redact ?? true;
    this.secrets = this.redact ? (options.secretFields ?? secretFieldNames()) : new Set();
    this.now = options.now ?? Date.now;
    this.maxHeldMessages = options.maxHeldMessages ?? 1_000;
    this.maxHeldChars = options.maxHeldChars ?? 64 * 1024 * 1024;
  }

  /**
   * Record one message of connection `conn`. The message object is never modified. `raw`, the message's text when
   * `message` was parsed from it, is copied into the line as is when nothing in it is redacted (no re-serializing).
   */
  message(conn: string, dir: Direction, message: RecordedMessage, raw?: string): void {
    const ts = new Date(this.now()).toISOString();
    if (typeof message === "string" || !this.redact) {
      this.frameLine(conn, ts, dir, message, raw);
      return;
    }
    const { id, count, index } = message;
    if (typeof count !== "number" || !Number.isInteger(count) || count <= 1 || typeof id !== "string" || (message.data !== undefined && message.data !== null && typeof message.data !== "string")) {
      this.frameLine(conn, ts, dir, message, raw);
      return;
    }
    if (typeof index !== "number" || !Number.isInteger(index) || index < 0 || index >= count) {
      // A chunk no reassembly will ever use: it may still carry part of a secret.
      this.frameLine(conn, ts, dir, blank(message), undefined, true);
      return;
    }
    this.hold(`${conn}\u0000${dir}\u0000${id}`, conn, dir, count, index, { ts, frame: message, raw });
  }

  /** Record a connection event; `close` first writes out the connection's held chunks (blanked: incomplete). */
  event(conn: string, event: CaptureEvent, detail: Record<string, unknown> = {}): void {
    if (event === "close") {
      for (const [key, h] of [...this.held]) if (h.conn === conn) this.release(key, h, false);
    }
    this.line({ conn, ts: new Date(this.now()).toISOString(), event, ...detail });
  }

  /** Write out everything still held (blanked: those messages never completed). */
  flush(): void {
    for (const [key, h] of [...this.held]) this.release(key, h, false);
  }

  private hold(key: string, conn: string, dir: Direction, count: number, index: number, line: HeldLine): void {
    let h = this.held.get(key);
    if (h && h.count !== count) {
      // Not the same message any more (a chunk-mismatch for the validator): write out what was held.
      this.release(key, h, false);
      h = undefined;
    }
    if (!h) {
      if (this.held.size >= this.maxHeldMessages) {
        const oldest = this.held.entries().next();
        if (!oldest.done) this.release(oldest.value[0], oldest.value[1], false);
      }
      h = { conn, dir, count, lines: [], parts: new Array<string | undefined>(count), received: 0, chars: 0 };
      this.held.set(key, h);
    }
    h.lines.push(line);
    const data = typeof line.frame.data === "string" ? line.frame.data : "";
    h.chars += data.length;
    this.heldChars += data.length;
    if (h.parts[index] === undefined) {
      h.parts[index] = data;
      h.received++;
    }
    if (h.received === h.count) this.release(key, h, true);
    else if (this.heldChars > this.maxHeldChars) this.release(key, h, false);
  }

  /** Write a held message: redacted and re-cut when complete, every chunk blanked otherwise. */
  private release(key: string, h: Held, complete: boolean): void {
    this.held.delete(key);
    this.heldChars -= h.chars;
    let cut: string[] | undefined;
    if (complete) {
      const joined = h.parts.join("");
      const redacted = redactText(joined, this.secrets);
      cut = redacted === joined ? undefined : split(redacted, h.count);
    }
    for (const { ts, frame, raw } of h.lines) {
      if (complete && !cut) this.frameLine(h.conn, ts, h.dir, frame, raw, true);
      else this.frameLine(h.conn, ts, h.dir, complete && cut ? { ...frame, data: cut[frame.index as number] } : blank(frame), undefined, true);
    }
  }

  /**
   * Write one frame line, redacted (unless redaction is off). `dataDone`: `data` was already redacted as part of
   * its whole message (a chunk), so only the other fields are checked here.
   */
  private frameLine(conn: string, ts: string, dir: Direction, frame: RecordedMessage, raw: string | undefined, dataDone = false): void {
    let out = frame;
    let verbatim = raw;
    if (this.redact) {
      if (typeof frame === "string") {
        out = redactText(frame, this.secrets);
      } else {
        out = redactFrame(frame, this.secrets, dataDone);
        // The received text may differ from its parse (duplicate keys keep only the last value there).
        if (verbatim !== undefined && (out !== frame || mayHoldSecret(verbatim, this.secrets))) verbatim = undefined;
      }
    }
    // The raw text of a JSON object goes in verbatim unless it spans lines (a capture line must be one line).
    if (verbatim !== undefined && typeof out !== "string" && !verbatim.includes("\n") && !verbatim.includes("\r")) {
      this.write(`{"conn":${JSON.stringify(conn)},"ts":"${ts}","dir":"${dir}","frame":${verbatim}}\n`);
      return;
    }
    this.line({ conn, ts, dir, frame: out });
  }

  private line(record: Record<string, unknown>): void {
    this.write(`${JSON.stringify(record)}\n`);
  }
}

function blank(frame: Record<string, unknown>): Record<string, unknown> {
  return frame.data === undefined || frame.data === null || frame.data === "" ? frame : { ...frame, data: REDACTED };
}

/** `text` cut into `n` consecutive pieces of near-equal length (some may be empty when text is short). */
function split(text: string, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(text.slice(Math.floor((i * text.length) / n), Math.floor(((i + 1) * text.length) / n)));
  return out;
}
