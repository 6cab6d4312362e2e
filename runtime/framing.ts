/**
 * Framing: turning one logical message into frames (chunking) and frames back into messages (reassembly).
 * Pure code, no sockets and no timers: the caller passes the clock, so tests feed it directly (ws `Receiver`).
 *
 * Unlike the reference JS implementations (https://github.com/openflow-spec/openflow-spec/blob/main/docs/protocol.md#q3, https://github.com/openflow-spec/openflow-spec/blob/main/docs/protocol.md#q4), chunking here never drops U+2028/U+2029 and
 * never splits a surrogate pair, and reassembly is linear in the message size whatever the arrival order.
 */
import type { Frame } from "../generated/types.js";
import { OpenFlowError } from "./errors.js";

/**
 * One websocket text message of the protocol: the type generated from https://github.com/openflow-spec/openflow-spec/blob/main/schemas/frame.json, so the wire shape is
 * declared in one place (a type-only import: nothing generated is loaded at run time).
 */
export type WireFrame = Frame & {
  /** Always a string here: parseFrame reads a missing id (the servers' id-less error frame, frame.json#/$defs/idlessError) as "". */
  id: string;
};

/** A logical message: the frames' common header plus the joined `data`. */
export interface WireMessage {
  id: string;
  replyto?: string | null;
  command: string;
  /** The joined payload text; `undefined` when the frames carried none (ping). */
  data?: string | null;
  priority?: number | null;
  traceId?: string | null;
  spanId?: string | null;
}

/** Chunk size the latest server announces by default (https://github.com/openflow-spec/openflow-spec/blob/main/docs/protocol.md#chunking); used before signin tells us better. */
export const DEFAULT_CHUNK_SIZE = 25_000;

/**
 * Split `text` into pieces of at most `size` UTF-16 code units, never between the two halves of a surrogate
 * pair (a piece may then be one unit shorter; with size 1 a pair travels as a piece of 2).
 */
export function chunkString(text: string, size: number): string[] {
  const ends = chunkEnds(text, size);
  const pieces = new Array<string>(ends.length);
  let start = 0;
  for (let i = 0; i < ends.length; i++) {
    const end = ends[i] as number;
    pieces[i] = text.slice(start, end);
    start = end;
  }
  return pieces;
}

/**
 * Where each piece of `chunkString(text, size)` ends: a first pass that only reads the characters at the
 * boundaries, so the number of pieces (every frame's `count`) is known before any piece is cut.
 */
function chunkEnds(text: string, size: number): number[] {
  if (!Number.isInteger(size) || size < 1) {
    throw new OpenFlowError("usage", `chunk size must be a positive integer, got ${String(size)}`);
  }
  if (text.length <= size) return [text.length];
  const ends: number[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(start + size, text.length);
    if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1)) && isLowSurrogate(text.charCodeAt(end))) {
      end = end - 1 > start ? end - 1 : end + 1;
    }
    ends.push(end);
    start = end;
  }
  return ends;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** Build the frames of one message. An empty or missing payload still gives one frame (as every peer does). */
export function encodeMessage(message: WireMessage, chunkSize: number): WireFrame[] {
  if (message.data === undefined || message.data === null || message.data === "") {
    const frame = frameHeader(message);
    if (message.data !== undefined) frame.data = message.data;
    frame.count = 1;
    frame.index = 0;
    return [frame];
  }
  const pieces = chunkString(message.data, chunkSize);
  return pieces.map((data, index) => {
    const frame = frameHeader(message);
    frame.data = data;
    frame.count = pieces.length;
    frame.index = index;
    return frame;
  });
}

/**
 * The websocket text of each frame of one message, handed to `emit` one at a time as it is made (so sending a
 * 20 MB message never holds all of its frames at once). Same output as `JSON.stringify` of each frame of
 * `encodeMessage`. Each text is one `JSON.stringify` of one reused frame object: a flat string that `ws` can
 * measure and copy without first flattening a concatenation, and the payload is escaped exactly once.
 */
export function forEachFrameText(message: WireMessage, chunkSize: number, emit: (text: string) => void): void {
  const data = message.data;
  if (data === undefined || data === null || data === "") {
    for (const frame of encodeMessage(message, chunkSize)) emit(JSON.stringify(frame));
    return;
  }
  const ends = chunkEnds(data, chunkSize);
  // Built by assignment, not `{ ...header, data }`: V8 serializes a spread copy about five times slower.
  const frame = frameHeader(message);
  frame.data = "";
  frame.count = ends.length;
  frame.index = 0;
  let start = 0;
  for (let i = 0; i < ends.length; i++) {
    const end = ends[i] as number;
    frame.data = start === 0 && end === data.length ? data : data.slice(start, end);
    frame.index = i;
    emit(JSON.stringify(frame));
    start = end;
  }
}

/** Like encodeMessage, but returns the websocket text of each frame (see forEachFrameText). */
export function encodeMessageText(message: WireMessage, chunkSize: number): string[] {
  const texts: string[] = [];
  forEachFrameText(message, chunkSize, (text) => texts.push(text));
  return texts;
}

function frameHeader(message: WireMessage): WireFrame {
  const header: WireFrame = { id: message.id, command: message.command };
  // Omit replyto on requests: the official client treats "" as a reply and drops the frame (Q9).
  if (message.replyto) header.replyto = message.replyto;
  if (message.priority !== undefined && message.priority !== null) header.priority = message.priority;
  if (message.traceId) header.traceId = message.traceId;
  if (message.spanId) header.spanId = message.spanId;
  return header;
}

/**
 * Parse one websocket text message into a frame, checking the structure a receiver relies on. Throws an
 * OpenFlowError of code "protocol" naming the field. A missing id is tolerated (servers send their
 * unparsable-frame `error` without one) and becomes "".
 */
export function parseFrame(text: string): WireFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new OpenFlowError("protocol", `frame is not JSON: ${(err as Error).message}`, { cause: err });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new OpenFlowError("protocol", "frame must be a JSON object", { pointer: "" });
  }
  const frame = value as Record<string, unknown>;
  const id = frame.id ?? "";
  if (typeof id !== "string") throw fieldError("id", "must be a string", id);
  if (typeof frame.command !== "string" || frame.command === "") {
    throw fieldError("command", "must be a non-empty string", frame.command, id);
  }
  if (frame.replyto !== undefined && frame.replyto !== null && typeof frame.replyto !== "string") {
    throw fieldError("replyto", "must be a string or null", frame.replyto, id);
  }
  if (frame.data !== undefined && frame.data !== null && typeof frame.data !== "string") {
    throw fieldError("data", "must be a string (the payload's JSON text) or null", frame.data, id);
  }
  const count = frame.count;
  if (count !== undefined && count !== null && !Number.isInteger(count)) throw countError("count", count, id);
  const index = frame.index;
  if (index !== undefined && index !== null && !Number.isInteger(index)) throw countError("index", index, id);
  // No copy on the hot path: the parsed object is already the frame once its id is a string.
  if (frame.id !== id) frame.id = id;
  return frame as unknown as WireFrame;
}

function countError(field: "count" | "index", value: unknown, id: string): OpenFlowError {
  return fieldError(field, "must be an integer JSON number (a numeric string stalls real servers)", value, id);
}

function fieldError(field: string, what: string, value: unknown, id?: string): OpenFlowError {
  const shown = typeof value === "string" ? JSON.stringify(value.slice(0, 40)) : String(value);
  return new OpenFlowError("protocol", `frame /${field} ${what}, got ${shown}`, { pointer: `/${field}`, id });
}

export interface ReassemblyLimits {
  /** Largest joined `data` accepted, in UTF-16 code units. */
  maxMessageChars: number;
  /** Largest `count` accepted (empty chunks count too). */
  maxChunks: number;
  /** Most messages half-received at once. */
  maxPartialMessages: number;
  /**
   * Most characters held for half-received messages at once (their data plus id, command and replyto), so
   * many half-sent messages cannot pin `maxPartialMessages` x `maxMessageChars` of memory.
   */
  maxPendingChars: number;
  /** A half-received message older than this (ms since its first chunk) is dropped by `sweep`. */
  partialTimeoutMs: number;
}

export const defaultReassemblyLimits: ReassemblyLimits = {
  maxMessageChars: 256 * 1024 * 1024,
  maxChunks: 1_000_000,
  maxPartialMessages: 1_000,
  // No total cap by default (the capture validator evicts by its own rules); the client and the server set one.
  maxPendingChars: Number.POSITIVE_INFINITY,
  partialTimeoutMs: 60_000,
};

interface PartialMessage {
  header: WireMessage;
  count: number;
  /**
   * Chunks by index, grown as they arrive: never preallocated to `count`, which the peer chooses (one 60-byte
   * frame announcing 99 999 chunks would otherwise cost 800 KB, and 1 000 of them 800 MB).
   */
  pieces: (string | undefined)[];
  received: number;
  chars: number;
  /** Characters this message holds against `maxPendingChars` (data so far plus the header strings). */
  held: number;
  startedAt: number;
}

/**
 * Why the reassembler refused a frame; carried as `details.reason` of its "protocol" OpenFlowError so callers
 * (the capture validator) can classify faults without reading message text.
 */
export type ReassemblyFault =
  | "count-invalid"
  | "index-out-of-range"
  | "too-many-chunks"
  | "too-large"
  | "too-many-partial"
  | "chunk-mismatch"
  | "chunk-duplicate";

/** The fault reason of an error thrown by `Reassembler.push`, if it is one. */
export function reassemblyFault(error: unknown): ReassemblyFault | undefined {
  if (!(error instanceof OpenFlowError) || typeof error.details !== "object" || error.details === null) return undefined;
  const reason = (error.details as { reason?: unknown }).reason;
  return typeof reason === "string" ? (reason as ReassemblyFault) : undefined;
}

/** Outcome of feeding one frame. */
export type ReassemblyResult = { done: true; message: WireMessage } | { done: false };

/** One shared "not yet" result: allocated once, not once per chunk. */
const NOT_DONE: ReassemblyResult = Object.freeze({ done: false });

/**
 * Joins chunked messages, keyed by frame id. Linear: each chunk is stored once in its slot and joined once.
 * Any inconsistency throws a "protocol" OpenFlowError that names the id and drops that message's state
 * only; other messages are unaffected.
 */
export class Reassembler {
  readonly limits: ReassemblyLimits;
  private readonly partials = new Map<string, PartialMessage>();
  private heldChars = 0;

  constructor(limits: Partial<ReassemblyLimits> = {}) {
    this.limits = { ...defaultReassemblyLimits, ...limits };
  }

  /** Number of messages currently half-received. */
  get pending(): number {
    return this.partials.size;
  }

  /** Characters currently held for half-received messages. */
  get pendingChars(): number {
    return this.heldChars;
  }

  private forget(id: string): boolean {
    const partial = this.partials.get(id);
    if (!partial) return false;
    this.partials.delete(id);
    this.heldChars -= partial.held;
    return true;
  }

  push(frame: WireFrame, now: number): ReassemblyResult {
    const count = frame.count ?? 1;
    const index = frame.index ?? 0;
    const id = frame.id;
    const data = frame.data;
    if (!Number.isInteger(count) || count < 1) {
      this.forget(id);
      throw protocol("count-invalid", id, frame.command, `count must be an integer >= 1, got ${String(count)}`, "/count");
    }
    if (!Number.isInteger(index) || index < 0 || index >= count) {
      this.forget(id);
      throw protocol("index-out-of-range", id, frame.command, `index ${String(index)} is outside 0..${count - 1}`, "/index");
    }
    if (count > this.limits.maxChunks) {
      this.forget(id);
      throw protocol("too-many-chunks", id, frame.command, `count ${count} exceeds the limit of ${this.limits.maxChunks} chunks`, "/count");
    }
    const length = typeof data === "string" ? data.length : 0;
    if (count === 1 && !this.partials.has(id)) {
      if (length > this.limits.maxMessageChars) {
        throw protocol("too-large", id, frame.command, `message of ${length} characters exceeds the limit of ${this.limits.maxMessageChars}`, "/data");
      }
      return { done: true, message: messageOf(frame, data) };
    }
    let partial = this.partials.get(id);
    if (!partial) {
      if (this.partials.size >= this.limits.maxPartialMessages) {
        throw protocol("too-many-partial", id, frame.command, `more than ${this.limits.maxPartialMessages} messages half-received at once`);
      }
      const header = messageOf(frame, undefined);
      const held = id.length + header.command.length + (header.replyto?.length ?? 0);
      partial = { header, count, pieces: [], received: 0, chars: 0, held: 0, startedAt: now };
      this.partials.set(id, partial);
      partial.held = held;
      this.heldChars += held;
    } else if (partial.count !== count || partial.header.command !== frame.command || (partial.header.replyto || null) !== (frame.replyto || null)) {
      this.forget(id);
      throw protocol("chunk-mismatch", id, frame.command, `chunk ${index} disagrees with earlier chunks of the same id (count, command or replyto)`, "/count");
    }
    if (partial.pieces[index] !== undefined) {
      this.forget(id);
      throw protocol("chunk-duplicate", id, frame.command, `duplicate chunk ${index} of ${count}`, "/index");
    }
    partial.chars += length;
    partial.held += length;
    this.heldChars += length;
    if (this.heldChars > this.limits.maxPendingChars) {
      this.forget(id);
      throw protocol("too-many-partial", id, frame.command, `half-received messages exceed ${this.limits.maxPendingChars} characters in total`, "/data");
    }
    if (partial.chars > this.limits.maxMessageChars) {
      this.forget(id);
      throw protocol("too-large", id, frame.command, `message exceeds the limit of ${this.limits.maxMessageChars} characters`, "/data");
    }
    partial.pieces[index] = typeof data === "string" ? data : "";
    partial.received += 1;
    if (partial.received < count) return NOT_DONE;
    this.forget(id);
    return { done: true, message: { ...partial.header, data: partial.pieces.join("") } };
  }

  /**
   * Drop half-received messages older than the partial timeout. Returns one "timeout" OpenFlowError per
   * dropped message (with its id and command), so the caller can settle whatever waited on it.
   */
  sweep(now: number): OpenFlowError[] {
    const expired: OpenFlowError[] = [];
    for (const [id, partial] of this.partials) {
      if (now - partial.startedAt >= this.limits.partialTimeoutMs) {
        this.forget(id);
        expired.push(
          new OpenFlowError("timeout", `message ${id} (${partial.header.command}) stayed incomplete: ${partial.received} of ${partial.count} chunks after ${this.limits.partialTimeoutMs} ms`, {
            id,
            command: partial.header.command,
            // The request a half-received reply answered, so the caller can fail exactly that request.
            details: { replyto: partial.header.replyto ?? undefined },
          }),
        );
      }
    }
    return expired;
  }

  /** Forget everything (connection closed). */
  /** Forget one half-received message (a caller that gave up on it). Returns whether it was pending. */
  drop(id: string): boolean {
    return this.forget(id);
  }

  clear(): void {
    this.partials.clear();
    this.heldChars = 0;
  }
}

function messageOf(frame: WireFrame, data: string | null | undefined): WireMessage {
  const message: WireMessage = { id: frame.id, command: frame.command };
  if (frame.replyto !== undefined && frame.replyto !== null && frame.replyto !== "") message.replyto = frame.replyto;
  if (data !== undefined) message.data = data;
  if (frame.priority !== undefined) message.priority = frame.priority;
  if (frame.traceId !== undefined) message.traceId = frame.traceId;
  if (frame.spanId !== undefined) message.spanId = frame.spanId;
  return message;
}

function protocol(reason: ReassemblyFault, id: string, command: string, what: string, pointer?: string): OpenFlowError {
  return new OpenFlowError("protocol", `message ${id} (${command}): ${what}`, { id, command, pointer, details: { reason } });
}

let idPrefix: string | undefined;
let idCounter = 0;

/**
 * New frame id: a random per-process prefix (8 base-36 characters from the platform CSPRNG) plus a counter,
 * so ids never repeat within a process and never collide in practice across peers (reference peers use 9
 * random characters from Math.random). Calling the CSPRNG once instead of per id keeps this off the profile.
 */
export function newFrameId(): string {
  if (idPrefix === undefined || idCounter >= 0x7fffffff) {
    const bytes = new Uint8Array(8);
    globalThis.crypto.getRandomValues(bytes);
    idPrefix = "";
    for (const b of bytes) idPrefix += (b % 36).toString(36);
    idCounter = 0;
  }
  idCounter += 1;
  return idPrefix + idCounter.toString(36);
}
