/**
 * Runs one sequence of steps against a server and checks the invariants at every step (../docs/testing-servers.md):
 * each reply validates against the spec, in one error style; invalid input gets an error and the connection stays;
 * reads leave the data as it was (snapshots before and after); writes are visible to the next read; what the ACL
 * does not give the other user stays invisible and unchanged; no reply is slower than the budget. The first
 * broken invariant ends the sequence. Whatever the sequence created (names under its prefix) is removed at the end.
 */
import { loadSpec } from "./spec.js";
import type { Finding } from "../validator/findings.js";
import type { Connector } from "./link.js";
import { at, deepEqual, fill, firstDifference, isSubset, unbound, type Check, type InvariantCode, type Step } from "./steps.js";
import { Wire, type LoggedFrame, type Outcome } from "./wire.js";

export interface RunOptions {
  connect: Connector;
  /** Sign-ins available (1 or 2). */
  users: number;
  /** Name prefix of this run: every collection, queue and work-item queue it makes starts with it. */
  prefix: string;
  timeoutMs: number;
  /** A reply slower than this is a failure (undefined: no budget). */
  slowMs?: number | undefined;
  /** Drop collections at the end (dropcollection is an admin command). */
  allowAdmin: boolean;
  /** Stop before the next step when this says so (request and time budgets). */
  shouldStop?: () => boolean;
  /** Counts every request sent. */
  onRequest?: () => void;
  /** The error style the server showed so far, shared across runs. */
  style: { seen: "latest" | "2021" | undefined };
}

export interface Failure {
  invariant: InvariantCode;
  message: string;
  /** Index of the step in the sequence. */
  step: number;
  note: string;
  command: string;
}

export interface RunResult {
  failure: Failure | undefined;
  /** Steps run (a failure ends the run early). */
  ran: number;
  /** Why the sequence could not run to the end (a variable no step set), when so. */
  aborted: string | undefined;
  frames: LoggedFrame[];
  rateLimited: number;
  cleanup: { removed: number; failed: number };
  /** Names the run created (collections, queues, work-item queues, file ids), all under the prefix. */
  created: string[];
}

/** Wait this long for a reply to a broken-chunking request before probing the connection. */
const SILENCE_MS = 400;
const MAX_RATE_RETRIES = 6;

interface ErrorInfo {
  isError: boolean;
  style: "latest" | "2021" | undefined;
  text: string;
}

/** The rate limiter's answer (server-latest: "Rate limit exceeded consumedPoints: N"; ../docs/protocol.md#rate-limits). */
export function isRateLimitText(text: string): boolean {
  return /rate limit exceeded/i.test(text);
}

/** Is this reply an error, and in which style (../docs/protocol.md#errors)? */
export function errorInfo(command: string, payload: unknown): ErrorInfo {
  const p = payload && typeof payload === "object" ? (payload as Record<string, unknown>) : undefined;
  if (command.toLowerCase() === "error") {
    const text = typeof payload === "string" ? payload : String(p?.error ?? p?.message ?? JSON.stringify(payload));
    return { isError: true, style: p && "error" in p && "message" in p ? "latest" : undefined, text };
  }
  const err = p?.error;
  if (err !== undefined && err !== null && err !== "" && err !== false) {
    return { isError: true, style: "2021", text: typeof err === "string" ? err : JSON.stringify(err) };
  }
  return { isError: false, style: undefined, text: "" };
}

/**
 * Findings on a reply that are not the server's fault: a value the server echoed from the request (both servers
 * echo the request into the reply, so a wrong type the fuzzer sent comes back), and the reply's required fields
 * missing from a 2021-style error reply (that style answers with the request echoed plus `error`).
 */
function excused(f: Finding, request: unknown, replyCommand: string, reply: unknown, step: Step): boolean {
  const pointer = f.pointer ?? "";
  if (pointer !== "" && !step.frames && request !== undefined) {
    const sent = at(request, pointer);
    if (sent !== undefined && deepEqual(sent, at(reply, pointer))) return true;
  }
  const info = errorInfo(replyCommand, reply);
  return info.style === "2021" && pointer === "" && /must have required property/.test(f.message);
}

/** A step uses a variable no earlier step set: the sequence cannot run (shrinking removed the step that sets it). */
class Unbound extends Error {}

/** Commands that may change data (x-openflow.effect write or admin; unknown commands count as writes). */
function isWrite(command: string): boolean {
  return loadSpec().commands.get(command.toLowerCase())?.effect !== "read";
}

class StepFailed extends Error {
  constructor(
    readonly invariant: InvariantCode,
    message: string,
  ) {
    super(message);
  }
}

function short(value: unknown, max = 200): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text === undefined ? "undefined" : text.length > max ? `${text.slice(0, max)}...` : text;
}

function checkReply(check: Check, payload: unknown, vars: ReadonlyMap<string, unknown>): void {
  const actual = at(payload, check.pointer);
  const expected = fill(check.value, vars);
  let ok: boolean;
  switch (check.op) {
    case "equals":
      ok = deepEqual(expected, actual);
      break;
    case "subset":
      ok = isSubset(expected, actual);
      break;
    case "length":
      ok = Array.isArray(actual) && actual.length === expected;
      break;
    case "present":
      ok = actual !== undefined && actual !== null;
      break;
    case "absent":
      ok = actual === undefined || actual === null || (Array.isArray(actual) && actual.length === 0);
      break;
  }
  if (!ok) throw new StepFailed(check.invariant, `${check.what}: at ${check.pointer || "/"} expected ${check.op} ${short(expected)}, got ${short(actual)}`);
}

/** Run `steps` on fresh connections; clean up what they created. */
export async function runSequence(steps: readonly Step[], options: RunOptions): Promise<RunResult> {
  const frames: LoggedFrame[] = [];
  const wires: (Wire | undefined)[] = [];
  const findings: Finding[] = [];
  const vars = new Map<string, unknown>([["P", options.prefix]]);
  const created = new Set<string>();
  const collections = new Set<string>();
  const queues = new Set<string>();
  const wiqs = new Set<string>();
  const files = new Set<string>();
  let rateLimited = 0;

  const wire = async (as: number): Promise<Wire> => {
    const index = as < options.users ? as : 0;
    const existing = wires[index];
    if (existing && !existing.closed) return existing;
    let link;
    try {
      link = await options.connect(index);
    } catch (err) {
      throw new StepFailed("connection-dropped", `could not connect again as user ${index + 1}: ${err instanceof Error ? err.message : String(err)}`);
    }
    vars.set(`user${index}`, link.user._id ?? null);
    vars.set(`username${index}`, link.user.username ?? link.label);
    const w = new Wire(link, { as: index, log: frames, onFinding: (f) => findings.push(f) });
    wires[index] = w;
    return w;
  };

  /** Send one request with rate-limit back-off; returns the outcome (never a rate-limit answer while retries last). */
  const send = async (as: number, command: string, data: string, extra: { chunkSize?: number | undefined; fault?: Step["frames"]; timeoutMs?: number } = {}): Promise<Outcome> => {
    const w = await wire(as);
    for (let attempt = 0; ; attempt++) {
      options.onRequest?.();
      const outcome = await w.request(command, data, { timeoutMs: extra.timeoutMs ?? options.timeoutMs, ...(extra.chunkSize ? { chunkSize: extra.chunkSize } : {}), ...(extra.fault ? { fault: extra.fault } : {}) });
      if (outcome.kind === "timeout" && attempt < 2 && !extra.fault && data.length > (extra.chunkSize ?? w.link.packageSize)) {
        // server-latest drops a chunked request over the rate limit without any answer (../docs/protocol.md#rate-limits):
        // pace, wait, and send it once more before calling it unanswered.
        rateLimited++;
        w.pace(10);
        await new Promise((r) => setTimeout(r, Math.min(4000, 250 * 2 ** attempt)));
        continue;
      }
      if (outcome.kind === "reply" && attempt < MAX_RATE_RETRIES) {
        const info = errorInfo(outcome.message.command, outcome.payload);
        if (info.isError && isRateLimitText(info.text)) {
          rateLimited++;
          w.pace(Math.max(1, 10 - attempt * 2));
          await new Promise((r) => setTimeout(r, Math.min(4000, 250 * 2 ** attempt)));
          continue;
        }
      }
      return outcome;
    }
  };

  const snapshot = async (as: number, collection: string): Promise<unknown> => {
    const outcome = await send(as, "query", JSON.stringify({ collectionname: collection, query: {}, top: 1000, orderby: { _id: 1 } }));
    if (outcome.kind !== "reply" || errorInfo(outcome.message.command, outcome.payload).isError) return undefined;
    return at(outcome.payload, "/result");
  };

  const noteCreated = (command: string, payload: unknown, reply: unknown): void => {
    const p = (payload ?? {}) as Record<string, unknown>;
    const name = (v: unknown) => (typeof v === "string" && v.startsWith(options.prefix) ? v : undefined);
    const coll = name(p.collectionname);
    // Only writes create collections (and --read-only must never send the cleanup's deletemany).
    if (coll && isWrite(command)) collections.add(coll);
    if (command === "registerqueue") {
      const q = name(p.queuename);
      if (q) queues.add(q);
    }
    if (command === "addworkitemqueue") {
      const q = name(p.name);
      if (q) wiqs.add(q);
    }
    if (command === "savefile") {
      const id = at(reply, "/id") ?? at(reply, "/result/_id");
      if (typeof id === "string") files.add(id);
    }
  };

  let failure: Failure | undefined;
  let aborted: string | undefined;
  let ran = 0;
  try {
    for (let i = 0; i < steps.length; i++) {
      if (options.shouldStop?.()) break;
      const step = steps[i] as Step;
      ran = i + 1;
      try {
        await runStep(step);
      } catch (err) {
        if (err instanceof Unbound) {
          aborted = err.message;
          break;
        }
        if (!(err instanceof StepFailed)) throw err;
        failure = { invariant: err.invariant, message: err.message, step: i, note: step.note, command: step.command };
        break;
      }
    }
  } finally {
    const cleanup = await cleanUp().catch(() => ({ removed: 0, failed: collections.size + queues.size + wiqs.size + files.size }));
    for (const w of wires) w?.release();
    for (const n of [...collections, ...queues, ...wiqs, ...files]) created.add(n);
    // eslint-disable-next-line no-unsafe-finally
    return { failure, aborted, ran, frames, rateLimited, cleanup, created: [...created] };
  }

  /** Every frame received so far must pass the spec, except what the server only echoed back (see `excused`). */
  function assertValidReplies(request: unknown, outcome: Outcome, step: Step): void {
    const real = outcome.kind === "reply" ? findings.filter((f) => !excused(f, request, outcome.message.command, outcome.payload, step)) : [...findings];
    findings.length = 0;
    if (real.length > 0) {
      const f = real[0] as Finding;
      throw new StepFailed("reply-invalid", `${f.code}: ${f.message}`);
    }
  }

  async function runStep(step: Step): Promise<void> {
    // Checks, verify reads and push matches may use what this step saves: they are checked when used.
    const missing = unbound([step.payload, step.readOf], vars);
    if (missing !== undefined) throw new Unbound(`step "${step.note}" uses \${${missing}}, which no earlier step set`);
    const payload = fill(step.payload, vars);
    const data = step.data ?? (payload === undefined ? "" : JSON.stringify(payload));
    const readOf = step.readOf === undefined ? undefined : String(fill(step.readOf, vars));
    const before = readOf === undefined ? undefined : await snapshot(step.as, readOf);
    // Broken chunking may go unanswered (a server may drop such a message, or a rate limiter may drop its chunks);
    // the probe that follows checks that the connection still works.
    const silenceOk = step.expect === "error-or-silence" || step.frames !== undefined;
    findings.length = 0;
    const outcome = await send(step.as, step.command, data, { chunkSize: step.chunkSize, fault: step.frames, ...(silenceOk ? { timeoutMs: SILENCE_MS } : {}) });
    assertValidReplies(payload, outcome, step);
    if (outcome.kind === "closed") {
      if (step.expect === "error-or-close") return;
      throw new StepFailed("connection-dropped", `the server closed the connection (code ${outcome.code}) after ${step.command}${step.frames ? ` with ${step.frames}` : ""}`);
    }
    if (outcome.kind === "timeout") {
      if (!silenceOk) throw new StepFailed("no-reply", `no reply to ${step.command} within ${options.timeoutMs} ms`);
    } else {
      if (options.slowMs !== undefined && outcome.ms > options.slowMs) throw new StepFailed("slow", `${step.command} took ${outcome.ms} ms (budget --slow ${options.slowMs})`);
      const info = errorInfo(outcome.message.command, outcome.payload);
      // Framing failures come back as an `error` reply in both styles (../docs/protocol.md#errors): no style shown.
      if (info.style && !step.frames) {
        if (options.style.seen && options.style.seen !== info.style) {
          throw new StepFailed("error-style-mixed", `${step.command} answered an error in the ${info.style} style after the server showed the ${options.style.seen} style (${short(info.text)})`);
        }
        options.style.seen = info.style;
      }
      if (step.expect === "ok" && info.isError) throw new StepFailed("unexpected-error", `${step.command} failed: ${short(info.text)}`);
      if ((step.expect === "error" || step.expect === "error-or-silence") && !info.isError) throw new StepFailed("invalid-accepted", `${step.command} with invalid input (${step.note}) was answered as a success: ${short(outcome.payload)}`);
      if (!info.isError) {
        noteCreated(step.command, payload, outcome.payload);
        for (const [name, pointer] of Object.entries(step.save ?? {})) vars.set(name, at(outcome.payload, pointer));
        for (const check of step.checks ?? []) checkReply(check, outcome.payload, vars);
      } else if (isWrite(step.command) && payload && typeof payload === "object" && typeof (payload as Record<string, unknown>).collectionname === "string" && String((payload as Record<string, unknown>).collectionname).startsWith(options.prefix)) {
        // A failed write may still have created its collection (MongoDB creates on first use).
        collections.add(String((payload as Record<string, unknown>).collectionname));
      }
    }
    if (silenceOk || step.frames) {
      // The connection must still answer after broken input.
      const probe = await send(step.as, "query", JSON.stringify({ collectionname: `${options.prefix}_probe`, query: {}, top: 1 }));
      if (probe.kind === "closed") throw new StepFailed("connection-dropped", `the server closed the connection (code ${probe.code}) after ${step.command} with ${step.frames ?? step.note}`);
      if (probe.kind === "timeout") throw new StepFailed("no-reply", `the connection stopped answering after ${step.command} with ${step.frames ?? step.note}`);
    }
    if (step.verify && outcome.kind === "reply" && !errorInfo(outcome.message.command, outcome.payload).isError) {
      const v = step.verify;
      const read = await send(v.as ?? step.as, v.command, JSON.stringify(fill(v.payload, vars)));
      if (read.kind !== "reply") throw new StepFailed(read.kind === "closed" ? "connection-dropped" : "no-reply", `the read after ${step.command} (${v.command}) got no reply`);
      const readInfo = errorInfo(read.message.command, read.payload);
      if (readInfo.isError) throw new StepFailed("unexpected-error", `the read after ${step.command} (${v.command}) failed: ${short(readInfo.text)}`);
      assertValidReplies(fill(v.payload, vars), read, { ...step, frames: undefined });
      for (const check of v.checks) checkReply(check, read.payload, vars);
    }
    if (step.push) {
      const w = await wire(step.push.as ?? step.as);
      const match = fill(step.push.match ?? {}, vars) as Record<string, unknown>;
      const got = await w.waitPush(step.push.command, (p) => Object.entries(match).every(([pointer, value]) => deepEqual(at(p, pointer), value)), options.timeoutMs);
      if (!got) throw new StepFailed(step.push.invariant, `${step.push.what}: no ${step.push.command} within ${options.timeoutMs} ms`);
      for (const [name, pointer] of Object.entries(step.push.save ?? {})) vars.set(name, at(got.payload, pointer));
    }
    if (readOf !== undefined && before !== undefined) {
      const after = await snapshot(step.as, readOf);
      if (after !== undefined && !deepEqual(before, after)) {
        const d = firstDifference(before, after);
        throw new StepFailed("read-changed-state", `${step.command} is a read, but ${readOf} changed: at ${d?.pointer || "/"} (of its documents) ${short(d?.a)} before, ${short(d?.b)} after`);
      }
    }
  }

  async function cleanUp(): Promise<{ removed: number; failed: number }> {
    let removed = 0;
    let failed = 0;
    const total = collections.size + queues.size + wiqs.size + files.size;
    if (total === 0) return { removed, failed };
    const ok = async (command: string, payload: unknown): Promise<boolean> => {
      const outcome = await send(0, command, JSON.stringify(payload));
      const good = outcome.kind === "reply" && !errorInfo(outcome.message.command, outcome.payload).isError;
      return good;
    };
    for (const name of wiqs) (await ok("deleteworkitemqueue", { name, purge: true })) ? removed++ : failed++;
    for (const id of files) (await ok("deleteone", { collectionname: "files", id })) ? removed++ : failed++;
    for (const queuename of queues) {
      // Queues belong to a connection (closing it removes them); server-latest also keeps a `queue` document in
      // `mq`, which its creator may delete.
      if (wires[0] && !wires[0].closed) await ok("closequeue", { queuename });
      const found = await send(0, "query", JSON.stringify({ collectionname: "mq", query: { name: queuename, _type: "queue" }, top: 10 }));
      const docs = found.kind === "reply" ? at(found.payload, "/result") : undefined;
      for (const doc of Array.isArray(docs) ? docs : []) {
        const id = (doc as { _id?: unknown })._id;
        if (typeof id === "string") await ok("deleteone", { collectionname: "mq", id });
      }
      removed++;
    }
    for (const collectionname of collections) {
      let done = await ok("deletemany", { collectionname, query: {} });
      // The second user's documents may be out of the first user's reach (ACL).
      if (options.users > 1 && wires[1] && !wires[1].closed) await send(1, "deletemany", JSON.stringify({ collectionname, query: {} }));
      if (options.allowAdmin) done = (await ok("dropcollection", { collectionname, includehist: true })) || done;
      done ? removed++ : failed++;
    }
    return { removed, failed };
  }
}
