/**
 * One fuzzer connection at the frame level: sends requests (whole, chunked, or with broken chunking), reassembles
 * what comes back, pairs replies with requests by `replyto` (and the rate limiter's uncorrelated `error` by id),
 * buffers server-started commands, answers `ping` and acknowledges queue deliveries, and checks every received
 * frame with the capture validator (`validator/`), so a reply that breaks the spec is seen whatever the step.
 */
import { encodeMessageText, newFrameId, parseFrame, Reassembler, type WireMessage } from "../runtime/framing.js";
import { CaptureValidator } from "../validator/capture.js";
import type { Finding } from "../validator/findings.js";
import type { Link } from "./link.js";
import type { FrameFault } from "./steps.js";

/** A frame as sent or received, for reports and replay files. */
export interface LoggedFrame {
  /** Which user's connection (0 or 1). */
  as: number;
  dir: "c2s" | "s2c";
  text: string;
}

export type Outcome =
  | { kind: "reply"; message: WireMessage; payload: unknown; ms: number }
  | { kind: "timeout"; ms: number }
  | { kind: "closed"; ms: number; code: number };

export interface WireOptions {
  as: number;
  log: LoggedFrame[];
  /** Received frames the spec rejects (from the capture validator, s2c only). */
  onFinding: (finding: Finding) => void;
}

/**
 * Frames paced at a fixed rate once a connection was rate-limited (the runtime's token bucket, runtime/ratelimit.ts,
 * is not part of the client package's public entries, and a fixed gap is all the fuzzer needs).
 */
class FramePacer {
  private next = 0;
  constructor(private readonly gapMs: number) {}
  /** Milliseconds to wait before the next frame may go (0: now), reserving its slot. */
  take(now: number): number {
    const at = Math.max(now, this.next);
    this.next = at + this.gapMs;
    return at - now;
  }
}

const buckets = new WeakMap<Link, FramePacer>();

/** A message's `data` as JSON, or the text itself when it is not JSON (null for none). */
export function decode(data: string | null | undefined): unknown {
  if (data === undefined || data === null || data === "") return null;
  try {
    return JSON.parse(data) as unknown;
  } catch {
    return data;
  }
}

export class Wire {
  private readonly reassembler = new Reassembler();
  private readonly waiters = new Map<string, (m: WireMessage) => void>();
  private readonly pushWaiters = new Set<() => void>();
  /** Server-started commands received (reassembled), oldest first. */
  readonly pushes: { message: WireMessage; payload: unknown }[] = [];
  private readonly validator: CaptureValidator;
  private closeWaiters = new Set<(code: number) => void>();
  /** Pacing lives with the link (links are reused across sequences): once limited, always paced. */
  private get bucket(): FramePacer | undefined {
    return buckets.get(this.link);
  }
  private readonly stop: () => void;

  constructor(
    readonly link: Link,
    private readonly options: WireOptions,
  ) {
    this.validator = new CaptureValidator({
      onFinding: (f) => {
        if (f.dir === "s2c" && f.severity === "error" && f.code !== "unknown-reply") options.onFinding(f);
      },
    });
    this.stop = link.onText((text) => this.receive(text));
    void link.whenClosed.then(({ code }) => {
      for (const w of [...this.closeWaiters]) w(code);
    });
  }

  get closed(): boolean {
    return this.link.closed;
  }

  /** Pace this connection from now on (the server said "Rate limit exceeded"). */
  pace(perSecond: number): void {
    if (!buckets.has(this.link)) buckets.set(this.link, new FramePacer(Math.ceil(1000 / perSecond)));
  }

  private receive(text: string): void {
    this.options.log.push({ as: this.options.as, dir: "s2c", text });
    let frame;
    try {
      frame = parseFrame(text);
    } catch {
      this.validator.push(text, { dir: "s2c" });
      return;
    }
    this.validator.push(frame, { dir: "s2c" });
    let done;
    try {
      done = this.reassembler.push(frame, Date.now());
    } catch {
      return;
    }
    if (!done.done) return;
    const message = done.message;
    const command = message.command.toLowerCase();
    if (message.replyto) {
      this.waiters.get(message.replyto)?.(message);
      return;
    }
    if (command === "error" && message.id && this.waiters.has(message.id)) {
      // The rate limiter's answer: an uncorrelated error carrying the request's id (../docs/protocol.md#rate-limits).
      this.waiters.get(message.id)?.(message);
      return;
    }
    if (command === "ping") {
      this.sendRaw(JSON.stringify({ id: newFrameId(), replyto: message.id, command: "pong", data: message.data ?? "" }));
      return;
    }
    const payload = decode(message.data);
    if (command === "queuemessage") {
      // Acknowledge at once, small (the server only reads the command), so the broker delivers the next one.
      const p = (payload ?? {}) as Record<string, unknown>;
      this.sendRaw(JSON.stringify({ id: newFrameId(), replyto: message.id, command: "queuemessage", data: JSON.stringify({ queuename: p.queuename ?? null, correlationId: p.correlationId ?? null }) }));
    }
    this.pushes.push({ message, payload });
    if (this.pushes.length > 1000) this.pushes.shift();
    for (const w of [...this.pushWaiters]) w();
  }

  private sendRaw(text: string): void {
    this.options.log.push({ as: this.options.as, dir: "c2s", text });
    try {
      this.validator.push(JSON.parse(text) as unknown, { dir: "c2s" });
    } catch {
      this.validator.push(text, { dir: "c2s" });
    }
    this.link.send(text);
  }

  private async paced(): Promise<void> {
    const wait = this.bucket?.take(Date.now()) ?? 0;
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }

  /** The frames of one message, with `fault` applied. */
  framesOf(id: string, command: string, data: string, chunkSize: number, fault: FrameFault | undefined): string[] {
    switch (fault) {
      case "index-out-of-range":
        // count 2, so the message is incomplete by any reading: with count 1 both real servers take the frame as a
        // whole message whatever its index (they join when the frames of an id number `count`, docs/protocol.md).
        return [JSON.stringify({ id, command, data, count: 2, index: 3 })];
      case "count-string":
        return [JSON.stringify({ id, command, data, count: "1", index: "0" })];
      case "missing-chunk": {
        const half = Math.max(1, Math.floor(data.length / 2));
        return [JSON.stringify({ id, command, data: data.slice(0, half), count: 2, index: 0 })];
      }
      case "duplicate-chunk": {
        const frames = encodeMessageText({ id, command, data }, Math.max(1, Math.ceil(data.length / 2)));
        return [frames[0] as string, ...frames];
      }
      default:
        return encodeMessageText({ id, command, data }, chunkSize);
    }
  }

  /**
   * Send one request and wait for its reply, the close of the connection, or `timeoutMs`. `expectReply` false:
   * resolves as a timeout after a short grace period unless something answers.
   */
  async request(command: string, data: string, options: { chunkSize?: number; fault?: FrameFault; timeoutMs: number }): Promise<Outcome & { id: string }> {
    const id = newFrameId();
    const started = Date.now();
    if (this.link.closed) return { kind: "closed", ms: 0, code: 0, id };
    const frames = this.framesOf(id, command, data, options.chunkSize ?? this.link.packageSize, options.fault);
    // Paced per frame: the rate limit counts frames, and a chunked request over it gets no answer at all.
    if (this.bucket) {
      for (const text of frames.slice(0, -1)) {
        await this.paced();
        this.sendRaw(text);
      }
      await this.paced();
      frames.splice(0, frames.length - 1);
    }
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const finish = (outcome: Outcome) => {
        if (timer) clearTimeout(timer);
        this.waiters.delete(id);
        this.closeWaiters.delete(onClose);
        resolve({ ...outcome, id });
      };
      const onClose = (code: number) => finish({ kind: "closed", ms: Date.now() - started, code });
      this.waiters.set(id, (message) => finish({ kind: "reply", message, payload: decode(message.data), ms: Date.now() - started }));
      this.closeWaiters.add(onClose);
      timer = setTimeout(() => finish({ kind: "timeout", ms: Date.now() - started }), options.timeoutMs);
      for (const text of frames) this.sendRaw(text);
    });
  }

  /** Wait for a server-started `command` whose payload satisfies `accept` (already received or arriving). */
  waitPush(command: string, accept: (payload: unknown) => boolean, timeoutMs: number): Promise<{ message: WireMessage; payload: unknown } | undefined> {
    const find = () => this.pushes.find((p) => p.message.command.toLowerCase() === command && accept(p.payload));
    const found = find();
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => {
      const check = () => {
        const hit = find();
        if (hit) done(hit);
      };
      const done = (value: { message: WireMessage; payload: unknown } | undefined) => {
        clearTimeout(timer);
        this.pushWaiters.delete(check);
        resolve(value);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      this.pushWaiters.add(check);
    });
  }

  /** Stop listening; the link stays open for the next sequence (see `pooled`). */
  release(): void {
    this.stop();
  }
}
