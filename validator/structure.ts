/**
 * Structural frame checks that need no schema: the fields a receiver relies on to reassemble and dispatch.
 * They give the specific codes (count-string, index-out-of-range, ...) that a schema error at `/count` cannot,
 * and decide whether the frame can still be processed. Everything else about the frame's shape is left to
 * schemas/frame.json (see frame.ts).
 */
import type { WireFrame } from "../runtime/framing.js";
import { finding, type Finding, type Origin } from "./findings.js";

export interface StructureResult {
  /** The frame, normalized for reassembly (numeric-string count/index coerced, missing id = ""; frame.json allows a missing id only on the servers' one-frame error answer), or undefined when it cannot be processed. */
  frame: WireFrame | undefined;
  findings: Finding[];
  /** Top-level frame fields already reported here, so schema issues under them are not reported twice. */
  reported: Set<string>;
}

const NUMERIC = /^\s*\d+\s*$/;

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (value === undefined) return "nothing";
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Check one parsed frame. Never throws. */
export function checkFrameStructure(value: unknown, origin: Origin): StructureResult {
  const findings: Finding[] = [];
  const reported = new Set<string>();
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    findings.push(finding("frame-invalid", `frame must be a JSON object, got ${Array.isArray(value) ? "an array" : show(value)}`, origin, { pointer: "" }));
    reported.add("");
    return { frame: undefined, findings, reported };
  }
  const raw = value as Record<string, unknown>;
  const rawId = raw["id"];
  const id = typeof rawId === "string" ? rawId : "";
  const command = typeof raw["command"] === "string" ? (raw["command"] as string) : undefined;
  const extra = { id, command };
  let processable = true;
  const bad = (field: string, what: string): void => {
    findings.push(finding("frame-invalid", `frame /${field} ${what}, got ${show(raw[field])}`, origin, { ...extra, pointer: `/${field}` }));
    reported.add(field);
  };

  if (rawId !== undefined && typeof rawId !== "string") {
    bad("id", "must be a string");
    processable = false;
  }
  if (command === undefined || command === "") {
    bad("command", "must be a non-empty string");
    processable = false;
  }
  const replyto = raw["replyto"];
  if (replyto !== undefined && replyto !== null && typeof replyto !== "string") {
    bad("replyto", "must be a string or null");
    processable = false;
  }
  const data = raw["data"];
  if (data !== undefined && data !== null && typeof data !== "string") {
    bad("data", "must be a string holding the payload's JSON text, or null");
    processable = false;
  }

  // count/index: a numeric string is reported (servers stall on it, Q1) but coerced, as the tolerant C# peer does,
  // so the rest of the message can still be checked.
  let count = 1;
  let index = 0;
  for (const key of ["count", "index"] as const) {
    const v = raw[key];
    if (v === undefined || v === null) continue;
    let n: number;
    if (typeof v === "string") {
      const why = key === "count" ? "both servers keep it a string and never complete the message" : "servers keep it a string and may never trigger reassembly";
      findings.push(finding(key === "count" ? "count-string" : "index-string", `frame /${key} is the string ${show(v)}; send a JSON number (${why}, quirk Q1)`, origin, { ...extra, pointer: `/${key}` }));
      reported.add(key);
      if (!NUMERIC.test(v)) {
        processable = false;
        continue;
      }
      n = Number(v);
    } else if (typeof v === "number" && Number.isInteger(v)) {
      n = v;
    } else {
      bad(key, "must be an integer");
      processable = false;
      continue;
    }
    if (key === "count") count = n;
    else index = n;
  }
  if (!reported.has("count") && count < 1) {
    bad("count", "must be at least 1");
    processable = false;
  } else if (!reported.has("index") && index < 0) {
    bad("index", "must be at least 0");
    processable = false;
  } else if (processable && index >= count) {
    findings.push(finding("index-out-of-range", `frame /index ${index} is outside 0..${count - 1} (count ${count})`, origin, { ...extra, pointer: "/index" }));
    reported.add("index");
    processable = false;
  }
  if (!processable) return { frame: undefined, findings, reported };

  // Fast path: a well-formed frame is used as is (no copy); only coerced or id-less frames are rebuilt.
  if (typeof rawId === "string" && typeof raw["count"] !== "string" && typeof raw["index"] !== "string") {
    return { frame: raw as unknown as WireFrame, findings, reported };
  }
  const frame: WireFrame = { ...(raw as unknown as WireFrame), id, command: command as string };
  if (typeof raw["count"] === "string") frame.count = count;
  if (typeof raw["index"] === "string") frame.index = index;
  return { frame, findings, reported };
}
