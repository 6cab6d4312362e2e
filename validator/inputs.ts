/**
 * Resolve the CLI's input arguments: files, folders (every .json/.ndjson/.jsonl inside, recursively, sorted;
 * hidden folders and node_modules skipped) and `-` for standard input.
 */
import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import type { Readable } from "node:stream";
import { unreadableReason } from "./file-errors.js";
import type { InputMode } from "./run.js";

export interface Input {
  /** Name shown in findings: the path as given (folder entries: folder/relative path), or `-`. */
  name: string;
  mode: InputMode;
  /** Size in bytes when known (progress). */
  size: number | undefined;
  open(): Readable;
}

export interface UnreadablePath {
  name: string;
  message: string;
}

const CAPTURE_EXT = [".ndjson", ".jsonl"];
const EXTENSIONS = [".json", ...CAPTURE_EXT];

/** Capture files are always captures; anything else is sniffed (one document, or a capture if it has JSON lines). */
export function modeOf(path: string): InputMode {
  return CAPTURE_EXT.some((ext) => path.endsWith(ext)) ? "capture" : "auto";
}

function fileInput(name: string, path: string, size: number): Input {
  return { name, mode: modeOf(path), size, open: () => createReadStream(path, { highWaterMark: 1 << 20 }) };
}

async function listFolder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, depth: number): Promise<void> => {
    if (depth > 32) return;
    const entries = await readdir(d, { withFileTypes: true });
    for (const e of entries) {
      if (e.name.startsWith(".") || e.name === "node_modules") continue;
      const full = join(d, e.name);
      if (e.isDirectory()) await walk(full, depth + 1);
      else if (e.isFile() && EXTENSIONS.some((ext) => e.name.endsWith(ext))) out.push(full);
    }
  };
  await walk(dir, 0);
  return out.sort((a, b) => (relative(dir, a).split(sep).join("/") < relative(dir, b).split(sep).join("/") ? -1 : 1));
}

/** Inputs in argument order (folders expanded in place), and the paths that could not be read. */
export async function resolveInputs(paths: readonly string[], stdin: () => Readable): Promise<{ inputs: Input[]; unreadable: UnreadablePath[] }> {
  const inputs: Input[] = [];
  const unreadable: UnreadablePath[] = [];
  for (const path of paths) {
    if (path === "-") {
      inputs.push({ name: "-", mode: "auto", size: undefined, open: stdin });
      continue;
    }
    try {
      const info = await stat(path);
      if (info.isDirectory()) {
        const files = await listFolder(path);
        if (files.length === 0) unreadable.push({ name: path, message: "folder holds no .json, .ndjson or .jsonl files" });
        for (const file of files) inputs.push(fileInput(file, file, (await stat(file)).size));
      } else {
        inputs.push(fileInput(path, path, info.size));
      }
    } catch (err) {
      unreadable.push({ name: path, message: unreadableReason(err) });
    }
  }
  return { inputs, unreadable };
}
