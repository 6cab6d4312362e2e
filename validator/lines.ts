/**
 * Split a text stream into lines without holding more than one line (plus one read chunk) in memory.
 * A line longer than the limit is skipped unread and reported once, so one runaway line cannot exhaust memory.
 */
import { isUtf8 } from "node:buffer";
import type { Readable } from "node:stream";

export interface LineSink {
  /** One line without its terminator (`\n` or `\r\n`); `line` is 1-based. */
  line(text: string, line: number): void;
  /** A line longer than the limit was skipped (`length` is at least the limit). */
  tooLong?(line: number, length: number): void;
  /** Called after each chunk read with the number of UTF-16 code units read so far (progress). */
  progress?(chars: number): void;
  /** Awaited after each chunk: lets the caller apply backpressure (e.g. wait for its output to drain). */
  pause?(): Promise<void> | undefined;
}

export const DEFAULT_MAX_LINE_CHARS = 128 * 1024 * 1024;

/** The input is not UTF-8 text (a binary file, or text in another encoding). `line` and `byte` are 1-based. */
export class InputEncodingError extends Error {
  override name = "InputEncodingError";
  constructor(
    readonly line: number,
    readonly byte: number,
    detail: string,
  ) {
    super(`not UTF-8 text: ${detail} at line ${line} (byte ${byte}); frames and captures must be UTF-8 JSON`);
  }
}

/**
 * Index of the first byte in `buf` that starts or continues an invalid UTF-8 sequence, or -1. A sequence cut off at
 * the end of `buf` counts as valid (the next chunk may complete it).
 */
export function firstInvalidUtf8(buf: Uint8Array): number {
  let i = 0;
  while (i < buf.length) {
    const b = buf[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) [need, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [need, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [need, min] = [3, 0x10000];
    else return i;
    let cp = b & (0xff >> (need + 2));
    for (let k = 1; k <= need; k++) {
      if (i + k >= buf.length) return -1;
      const c = buf[i + k] as number;
      if ((c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

function countNewlines(buf: Uint8Array, end: number): number {
  let n = 0;
  for (let i = buf.indexOf(10); i !== -1 && i < end; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

/** How many bytes at the end of `buf` begin a multi-byte character that `buf` does not finish (0 to 3). */
function incompleteTail(buf: Uint8Array): number {
  for (let back = 1; back <= Math.min(3, buf.length); back++) {
    const b = buf[buf.length - back] as number;
    if ((b & 0xc0) === 0x80) continue;
    const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return length > back ? back : 0;
  }
  return 0;
}

function describeBad(buf: Uint8Array, at: number): string {
  const b = buf[at] ?? 0;
  const hex = `0x${b.toString(16).padStart(2, "0")}`;
  return b >= 0xc2 && b <= 0xf4 ? `malformed multi-byte character starting with byte ${hex}` : `invalid byte ${hex}`;
}

/**
 * Read `stream` to its end, calling `sink.line` per line. Rejects when the stream errors, and with an
 * InputEncodingError (naming line and byte) when the bytes are not UTF-8; lines before the bad one are delivered.
 * A stream already in string mode (setEncoding) is taken as decoded.
 */
export async function forEachLine(stream: Readable, sink: LineSink, maxLineChars = DEFAULT_MAX_LINE_CHARS): Promise<void> {
  // Bytes are checked with the native isUtf8 and decoded with toString, up to the last complete character of each
  // read; the rest is carried into the next read. The slow byte walk runs only to locate an error.
  let carry: Uint8Array = new Uint8Array(0);
  let bytesBefore = 0;
  const decode = (raw: string | Uint8Array): string => {
    if (typeof raw === "string") return raw;
    const buf = carry.length === 0 ? raw : Buffer.concat([carry, raw]);
    const body = buf.subarray(0, buf.length - incompleteTail(buf));
    carry = Uint8Array.from(buf.subarray(body.length));
    if (!isUtf8(body)) {
      const at = Math.max(0, firstInvalidUtf8(body));
      // The current line is already counted when it is being skipped as too long.
      throw new InputEncodingError(lineNo + (skipping ? 0 : 1) + countNewlines(body, at), bytesBefore + at + 1, describeBad(body, at));
    }
    bytesBefore += body.length;
    return Buffer.from(body.buffer, body.byteOffset, body.length).toString("utf8");
  };
  let pieces: string[] = [];
  let pending = 0;
  let lineNo = 0;
  let skipping = false;
  let total = 0;
  const emit = (text: string): void => {
    lineNo++;
    // Editors on Windows may start the file with a byte order mark; JSON.parse would reject it.
    if (lineNo === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    sink.line(text.length > 0 && text.charCodeAt(text.length - 1) === 13 ? text.slice(0, -1) : text, lineNo);
  };
  for await (const raw of stream as AsyncIterable<string | Uint8Array>) {
    const chunk = decode(raw);
    total += chunk.length;
    let start = 0;
    let nl = chunk.indexOf("\n");
    while (nl !== -1) {
      if (skipping) {
        skipping = false;
      } else if (pieces.length === 0) {
        emit(chunk.slice(start, nl));
      } else if (pending + nl - start > maxLineChars) {
        lineNo++;
        sink.tooLong?.(lineNo, pending + nl - start);
        pieces = [];
        pending = 0;
      } else {
        pieces.push(chunk.slice(start, nl));
        emit(pieces.join(""));
        pieces = [];
        pending = 0;
      }
      start = nl + 1;
      nl = chunk.indexOf("\n", start);
    }
    if (start < chunk.length && !skipping) {
      const rest = chunk.slice(start);
      pending += rest.length;
      if (pending > maxLineChars) {
        lineNo++;
        sink.tooLong?.(lineNo, pending);
        pieces = [];
        pending = 0;
        skipping = true;
      } else {
        pieces.push(rest);
      }
    }
    sink.progress?.(total);
    const wait = sink.pause?.();
    if (wait) await wait;
  }
  if (carry.length > 0) {
    const at = firstInvalidUtf8(carry);
    const detail = at < 0 ? "truncated multi-byte character" : describeBad(carry, at);
    throw new InputEncodingError(lineNo + (skipping ? 0 : 1), bytesBefore + Math.max(0, at) + 1, detail);
  }
  if (pieces.length > 0) emit(pieces.join(""));
}
