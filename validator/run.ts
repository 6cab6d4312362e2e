/**
 * Validate one input stream: a capture (one frame or `{"dir","frame"}` per line), a document holding one frame,
 * or payloads of a given command. Streams line by line; only a document is read whole (up to a limit).
 */
import type { Readable } from "node:stream";
import { CaptureValidator, type CaptureLimits } from "./capture.js";
import { ConnectionsValidator } from "./connections.js";
import { finding, type Finding, type Origin } from "./findings.js";
import { forEachLine, DEFAULT_MAX_LINE_CHARS } from "./lines.js";
import { validateCommandPayload, type PayloadKind } from "./payload.js";

/**
 * capture: newline-delimited frames (`.ndjson`, `.jsonl`). document: one JSON document holding a frame or an
 * envelope (`.json`). auto: a capture when the input has two or more lines that each parse as JSON, else a document.
 */
export type InputMode = "capture" | "document" | "auto";

export interface InputOptions {
  /** Name put on findings. */
  file: string;
  mode: InputMode;
  /** Validate payloads of this command instead of frames (a document is one payload; a capture, one per line). */
  payload?: { command: string; kind: PayloadKind } | undefined;
  onFinding: (f: Finding) => void;
  onProgress?: ((chars: number) => void) | undefined;
  /** Awaited between read chunks (backpressure from the report output). */
  pause?: (() => Promise<void> | undefined) | undefined;
  limits?: Partial<CaptureLimits> | undefined;
  maxLineChars?: number | undefined;
  /** Pair replies with requests (unanswered-request, unknown-reply, ...). Default true. */
  correlate?: boolean | undefined;
}

export interface InputSummary {
  file: string;
  /** What the input turned out to be. */
  mode: "capture" | "document";
  lines: number;
  frames: number;
  messages: number;
  errors: number;
  warnings: number;
}

/** Largest `.json` document read whole; bigger inputs belong in a capture. */
export const MAX_DOCUMENT_CHARS = 256 * 1024 * 1024;

export async function validateInput(stream: Readable, options: InputOptions): Promise<InputSummary> {
  const summary: InputSummary = { file: options.file, mode: options.mode === "document" ? "document" : "capture", lines: 0, frames: 0, messages: 0, errors: 0, warnings: 0 };
  const emit = (f: Finding): void => {
    if (f.severity === "error") summary.errors++;
    else summary.warnings++;
    options.onFinding(f);
  };
  const base: Origin = { file: options.file };
  const maxLine = options.maxLineChars ?? DEFAULT_MAX_LINE_CHARS;

  let capture: ConnectionsValidator | undefined;
  const lineHandler = (text: string, line: number): void => {
    if (options.payload) {
      const origin = { ...base, line };
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        emit(finding("not-json", `not JSON: ${(err as Error).message}`, origin));
        return;
      }
      summary.messages++;
      for (const f of validateCommandPayload(options.payload.command, options.payload.kind, value, origin)) emit(f);
      return;
    }
    capture ??= new ConnectionsValidator({ file: options.file, onFinding: emit, limits: options.limits, correlate: options.correlate ?? true });
    capture.push(text, { line });
  };

  // Document mode, and auto mode until it has seen two non-empty lines that each parse as JSON.
  let doc: string[] | undefined = options.mode === "capture" ? undefined : [];
  let docChars = 0;
  let held: { text: string; line: number } | undefined;
  let decided = options.mode !== "auto";
  const tooLong = (line: number, length: number): void => {
    emit(finding("line-too-long", `line of ${length} or more characters exceeds the limit of ${maxLine}; skipped`, { ...base, line }));
  };

  await forEachLine(
    stream,
    {
      line(text, line) {
        summary.lines = line;
        if (doc) {
          if (!decided && text.trim() !== "") {
            if (held === undefined) {
              held = { text, line };
            } else if (isJson(held.text) && isJson(text)) {
              decided = true;
              summary.mode = "capture";
              doc = undefined;
              lineHandler(held.text, held.line);
              lineHandler(text, line);
              held = undefined;
              return;
            } else {
              decided = true;
            }
          }
          docChars += text.length + 1;
          if (docChars > MAX_DOCUMENT_CHARS) {
            emit(finding("line-too-long", `JSON document larger than ${MAX_DOCUMENT_CHARS} characters; write large traffic as a newline-delimited capture (.ndjson)`, { ...base, line }));
            doc = [];
            docChars = -Infinity;
            return;
          }
          if (docChars > 0) doc.push(text);
          return;
        }
        if (text.trim() === "") return;
        lineHandler(text, line);
      },
      tooLong,
      progress: options.onProgress,
      pause: options.pause,
    },
    maxLine,
  );

  if (doc) {
    summary.mode = "document";
    if (docChars >= 0) validateDocument(doc.join("\n"), options, base, emit, summary);
  }
  if (capture) {
    capture.finish();
    summary.frames = capture.stats.frames;
    summary.messages = capture.stats.messages;
  }
  return summary;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function validateDocument(text: string, options: InputOptions, base: Origin, emit: (f: Finding) => void, summary: InputSummary): void {
  const firstLine = firstNonEmptyLine(text);
  if (firstLine === 0) {
    emit(finding("not-json", "empty input: expected a JSON document", { ...base }));
    return;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const position = /at position (\d+)/.exec(message);
    const line = position ? lineAt(text, Number(position[1])) : firstLine;
    emit(finding("not-json", `not JSON: ${message}`, { ...base, line }));
    return;
  }
  const origin = { ...base, line: firstLine };
  if (options.payload) {
    summary.messages = 1;
    for (const f of validateCommandPayload(options.payload.command, options.payload.kind, value, origin)) emit(f);
    return;
  }
  // A lone frame: every check except pairing (its reply or request is not in the file).
  const capture = new CaptureValidator({ file: options.file, onFinding: emit, correlate: false, limits: options.limits });
  capture.push(value, { line: firstLine });
  capture.finish();
  summary.frames = capture.stats.frames;
  summary.messages = capture.stats.messages;
}

function firstNonEmptyLine(text: string): number {
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) line++;
    else if (c !== 13 && c !== 32 && c !== 9) return line;
  }
  return 0;
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}
