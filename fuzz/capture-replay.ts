/**
 * `replay`: re-send the client side of a capture (written by `proxy` or `serve --record`, or a fuzz replay file)
 * to a server and compare its replies with the recorded ones.
 *
 * What is read: every `{"dir":"c2s","frame"}` line that starts a request (no `replyto`), reassembled per
 * connection and id; `signin` is skipped (the replay signs in with `--user`), and so are the client's answers to
 * server-started commands (acks of queue deliveries, `pong`), which the replay gives itself. The recorded reply
 * of each request is the s2c message whose `replyto` is its id.
 *
 * What is ignored when comparing (docs/testing-servers.md, "What replay ignores"):
 * - the frame `id` and `replyto` (new on every run), and how a message is cut into frames;
 * - server-made identifiers and names: `_id`, `id`, `_createdbyid`, `_modifiedbyid`, `usersrole`, `queuename`,
 *   `consumerTag`, `watchid`, `correlationId` (made when the sender gave none), `uniquename` (of files): a recorded value is mapped to the
 *   live one the first time they meet, and later requests are sent with the live value in its place (so
 *   insert → update → delete by `_id` replays faithfully);
 * - dates the server stamps: `_created`, `_modified`, `lastrun`, `nextrun`, `_ts`, `uploadDate`;
 * - tokens and secrets: `jwt`, every field the schemas mark secret, and recorded values `[redacted]`.
 */
import { encodeMessageText, newFrameId, parseFrame, Reassembler, type WireMessage } from "../runtime/framing.js";
import { REDACTED } from "../validator/redact.js";
import { secretFieldNames } from "../validator/secrets.js";
import type { Connector, Link } from "./link.js";
import { decode } from "./wire.js";
import { errorInfo } from "./runner.js";

/** Keys whose values the server makes: mapped recorded → live. */
export const MAPPED_KEYS = ["_id", "id", "_createdbyid", "_modifiedbyid", "usersrole", "queuename", "consumerTag", "watchid", "correlationId", "uniquename"] as const;
/** Keys whose values are dates the server stamps: never compared. */
export const DATE_KEYS = ["_created", "_modified", "lastrun", "nextrun", "_ts", "uploadDate"] as const;

export interface RecordedRequest {
  conn: string;
  id: string;
  command: string;
  data: string;
  /** The recorded reply, when the capture has one. */
  reply: { command: string; payload: unknown } | undefined;
  line: number;
}

export interface Difference {
  conn: string;
  /** 1-based position of the request in the replay. */
  index: number;
  command: string;
  line: number;
  pointer: string;
  message: string;
}

export interface CaptureReplayResult {
  requests: number;
  compared: number;
  connections: string[];
  differences: Difference[];
}

/** Read a capture's text: the requests of each connection, in order, with their recorded replies. */
export interface Capture {
  requests: RecordedRequest[];
  /** Connections in order of appearance. */
  connections: string[];
  /** The user name each connection signed in with (from its `signin`; absent for a token). */
  users: Map<string, string>;
}

export function readCapture(text: string): Capture {
  const c2s = new Map<string, Reassembler>();
  const s2c = new Map<string, Reassembler>();
  const requests: RecordedRequest[] = [];
  const byId = new Map<string, RecordedRequest>();
  const connections: string[] = [];
  const users = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]?.trim();
    if (!line) continue;
    let value: Record<string, unknown>;
    try {
      value = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new Error(`line ${i + 1} is not JSON`);
    }
    const dir = value.dir;
    const frameValue = value.frame;
    if ((dir !== "c2s" && dir !== "s2c") || typeof frameValue !== "object" || frameValue === null) continue;
    const conn = typeof value.conn === "string" ? value.conn : "";
    if (!connections.includes(conn)) connections.push(conn);
    let frame;
    try {
      frame = parseFrame(JSON.stringify(frameValue));
    } catch {
      continue;
    }
    const table = dir === "c2s" ? c2s : s2c;
    let reassembler = table.get(conn);
    if (!reassembler) table.set(conn, (reassembler = new Reassembler()));
    let done;
    try {
      done = reassembler.push(frame, 0);
    } catch {
      continue;
    }
    if (!done.done) continue;
    const m: WireMessage = done.message;
    const command = m.command.toLowerCase();
    if (dir === "c2s") {
      if (command === "signin" && !m.replyto) {
        const name = (decode(m.data) as { username?: unknown } | null)?.username;
        if (typeof name === "string" && name !== "") users.set(conn, name);
      }
      if (m.replyto || command === "signin" || command === "pong" || command === "ping") continue;
      const req: RecordedRequest = { conn, id: m.id, command: m.command, data: m.data ?? "", reply: undefined, line: i + 1 };
      requests.push(req);
      byId.set(`${conn}\u0000${m.id}`, req);
    } else {
      const key = m.replyto ? `${conn}\u0000${m.replyto}` : command === "error" && m.id ? `${conn}\u0000${m.id}` : undefined;
      const req = key ? byId.get(key) : undefined;
      if (req && !req.reply) req.reply = { command: m.command, payload: decode(m.data) };
    }
  }
  return { requests, connections, users };
}

/** Live values of server-made identifiers, keyed by the recorded value. */
type IdMap = Map<string, unknown>;

function substitute(value: unknown, ids: IdMap): unknown {
  if (typeof value === "string") return ids.has(value) ? ids.get(value) : value;
  if (Array.isArray(value)) return value.map((v) => substitute(v, ids));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = substitute(v, ids);
    return out;
  }
  return value;
}

/** Compare recorded and live reply payloads under the ignore rules; differences get a JSON pointer. */
export function compareReplies(recorded: unknown, live: unknown, ids: IdMap, secrets: ReadonlySet<string>, pointer = "", out: { pointer: string; message: string }[] = []): { pointer: string; message: string }[] {
  if (recorded === REDACTED) return out;
  if (typeof recorded === "string" && ids.has(recorded) && ids.get(recorded) === live) return out;
  if (Array.isArray(recorded)) {
    if (!Array.isArray(live)) {
      out.push({ pointer, message: `recorded an array, got ${JSON.stringify(live)?.slice(0, 80)}` });
      return out;
    }
    if (recorded.length !== live.length) out.push({ pointer, message: `recorded ${recorded.length} items, got ${live.length}` });
    for (let i = 0; i < Math.min(recorded.length, live.length); i++) compareReplies(recorded[i], live[i], ids, secrets, `${pointer}/${i}`, out);
    return out;
  }
  if (recorded && typeof recorded === "object") {
    if (!live || typeof live !== "object" || Array.isArray(live)) {
      out.push({ pointer, message: `recorded an object, got ${JSON.stringify(live)?.slice(0, 80)}` });
      return out;
    }
    const r = recorded as Record<string, unknown>;
    const l = live as Record<string, unknown>;
    for (const key of new Set([...Object.keys(r), ...Object.keys(l)])) {
      const at = `${pointer}/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`;
      if ((DATE_KEYS as readonly string[]).includes(key) || secrets.has(key.toLowerCase())) continue;
      if (!(key in l)) {
        out.push({ pointer: at, message: `recorded ${JSON.stringify(r[key])?.slice(0, 80)}, missing now` });
        continue;
      }
      if (!(key in r)) {
        out.push({ pointer: at, message: `not recorded, now ${JSON.stringify(l[key])?.slice(0, 80)}` });
        continue;
      }
      if ((MAPPED_KEYS as readonly string[]).includes(key) && typeof r[key] === "string") {
        const rv = r[key] as string;
        if (!ids.has(rv)) ids.set(rv, l[key]);
        if (ids.get(rv) === l[key]) continue;
      }
      compareReplies(r[key], l[key], ids, secrets, at, out);
    }
    return out;
  }
  if (recorded !== live) out.push({ pointer, message: `recorded ${JSON.stringify(recorded)?.slice(0, 80)}, got ${JSON.stringify(live)?.slice(0, 80)}` });
  return out;
}

/** Send one message on a link and wait for its reply (or timeout/close); pushes are acknowledged meanwhile. */
function exchange(link: Link, command: string, data: string, timeoutMs: number): Promise<WireMessage | "timeout" | "closed"> {
  const id = newFrameId();
  const reassembler = new Reassembler();
  return new Promise((resolve) => {
    const done = (v: WireMessage | "timeout" | "closed") => {
      clearTimeout(timer);
      stop();
      resolve(v);
    };
    const timer = setTimeout(() => done("timeout"), timeoutMs);
    void link.whenClosed.then(() => done("closed"));
    const stop = link.onText((text) => {
      let m;
      try {
        const r = reassembler.push(parseFrame(text), Date.now());
        if (!r.done) return;
        m = r.message;
      } catch {
        return;
      }
      if (m.replyto === id || (!m.replyto && m.id === id && m.command.toLowerCase() === "error")) return done(m);
      const c = m.command.toLowerCase();
      if (!m.replyto && c === "ping") link.send(JSON.stringify({ id: newFrameId(), replyto: m.id, command: "pong" }));
      if (!m.replyto && c === "queuemessage") link.send(JSON.stringify({ id: newFrameId(), replyto: m.id, command: "queuemessage", data: "{}" }));
    });
    for (const text of encodeMessageText({ id, command, data }, link.packageSize)) link.send(text);
  });
}

/**
 * Which sign-in replays a capture connection: the `--user` with the name that connection signed in with, else the
 * k-th distinct user of the capture as the k-th sign-in (the first when there are fewer).
 */
export function signInFor(capture: Capture, conn: string, labels: readonly string[]): number {
  const name = capture.users.get(conn);
  const byName = name === undefined ? -1 : labels.indexOf(name);
  if (byName >= 0) return byName;
  const distinct: string[] = [];
  for (const c of capture.connections) {
    const key = capture.users.get(c) ?? `conn:${c}`;
    if (!distinct.includes(key)) distinct.push(key);
  }
  const k = distinct.indexOf(name ?? `conn:${conn}`);
  return Math.min(Math.max(0, k), labels.length - 1);
}

/** Replay the capture's requests, each connection signed in as `signInFor` says. */
export async function replayCapture(capture: Capture, connect: Connector, labels: readonly string[], timeoutMs: number): Promise<CaptureReplayResult> {
  const secrets = secretFieldNames();
  const links = new Map<string, Link>();
  const ids: IdMap = new Map();
  const differences: Difference[] = [];
  let compared = 0;
  try {
    let index = 0;
    for (const req of capture.requests) {
      index++;
      let link = links.get(req.conn);
      if (!link || link.closed) {
        link = await connect(signInFor(capture, req.conn, labels));
        links.set(req.conn, link);
      }
      const payload = decode(req.data);
      const data = typeof payload === "object" && payload !== null ? JSON.stringify(substitute(payload, ids)) : req.data;
      const live = await exchange(link, req.command, data, timeoutMs);
      if (!req.reply) continue;
      compared++;
      const base = { conn: req.conn, index, command: req.command, line: req.line };
      if (live === "timeout" || live === "closed") {
        differences.push({ ...base, pointer: "", message: live === "timeout" ? `no reply within ${timeoutMs} ms (one was recorded)` : "the server closed the connection (a reply was recorded)" });
        continue;
      }
      const livePayload = decode(live.data);
      const recordedError = errorInfo(req.reply.command, req.reply.payload);
      const liveError = errorInfo(live.command, livePayload);
      if (recordedError.isError !== liveError.isError) {
        differences.push({ ...base, pointer: "", message: recordedError.isError ? `recorded an error (${recordedError.text.slice(0, 100)}), got a success` : `recorded a success, got an error: ${liveError.text.slice(0, 100)}` });
        continue;
      }
      if (req.reply.command.toLowerCase() !== live.command.toLowerCase()) {
        differences.push({ ...base, pointer: "/command", message: `recorded reply command ${req.reply.command}, got ${live.command}` });
        continue;
      }
      for (const d of compareReplies(req.reply.payload, livePayload, ids, secrets)) differences.push({ ...base, ...d });
    }
  } finally {
    for (const link of links.values()) link.close();
  }
  return { requests: capture.requests.length, compared, connections: capture.connections, differences };
}
