/**
 * Split a text stream into lines without holding more than one line (plus one read chunk) in memory.
 * A line longer than the limit is skipped unread and reported once, so one runaway line cannot exhaust memory.
 */
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

/** Read `stream` to its end, calling `sink.line` per line. Rejects only when the stream errors. */
export async function forEachLine(stream: Readable, sink: LineSink, maxLineChars = DEFAULT_MAX_LINE_CHARS): Promise<void> {
  stream.setEncoding("utf8");
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
  for await (const chunk of stream as AsyncIterable<string>) {
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
  if (pieces.length > 0) emit(pieces.join(""));
}
