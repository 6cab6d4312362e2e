/**
 * The walk behind `openflow-spec probe`: one connection, step by step (DNS, TCP, TLS, the HTTP upgrade, the
 * websocket, sign-in), stopping at the first step that fails with the cause and the usual fix. Once connected it
 * reads what the wire shows: how a deliberately bad request is answered (the error style of
 * docs/protocol.md#errors), whether `ping` gets a `pong`, the `websocket_package_size` of the sign-in reply, a rate
 * limit if one is announced or hit, and which cheap read commands answer.
 *
 * Frames are written and read here directly (not through the client runtime) because the point is to see what the
 * server does with each one, including answers the runtime would hide.
 */
import { isIP, connect as netConnect, type Socket } from "node:net";
import { checkServerIdentity, connect as tlsConnect, type TLSSocket } from "node:tls";
import WebSocket from "ws";
import { Reassembler, newFrameId, parseFrame, type WireMessage } from "../runtime/framing.js";
import type { Credentials } from "../runtime/index.js";
import { lookupVia, systemResolver, type Resolver } from "./connection.js";

/** Where a probe stopped (`ready`: every step passed). */
export type ProbeStage = "dns" | "tcp" | "tls" | "upgrade" | "websocket" | "signin" | "ready";

export const PROBE_STAGES: readonly ProbeStage[] = ["dns", "tcp", "tls", "upgrade", "websocket", "signin", "ready"];

/** One step of the walk, as reported. */
export interface ProbeStep {
  stage: ProbeStage;
  /** `ok`, `failed`, or `skipped` (TLS on ws://, sign-in without credentials). */
  status: "ok" | "failed" | "skipped";
  detail: string;
}

/** How a command the probe tried was answered. */
export type CommandAnswer = "answers" | "unknown command" | "no answer" | `error: ${string}`;

/** What `probe --format json` prints. The first five keys are stable; the others may grow. */
export interface ProbeReport {
  url: string;
  /** True once the websocket opened: something speaks the protocol's transport at that URL. */
  reachable: boolean;
  /** Where the walk stopped; `ready` when every step passed. */
  stage: ProbeStage;
  /** Why it stopped there (absent at `ready`). */
  error?: string;
  /** `2021` (the failure comes back as the same command with `error`), `latest` (as command `error`), or `unknown`. */
  errorStyle?: "2021" | "latest" | "unknown";
  /** `websocket_package_size` of the sign-in reply (absent without sign-in). */
  packageSize?: number;
  /** What to do about `error`. */
  fix?: string;
  address?: string;
  httpStatus?: number;
  closeCode?: number;
  closeReason?: string;
  tls?: { authorized: boolean; subject?: string; issuer?: string; validTo?: string; authorizationError?: string };
  errorStyleEvidence?: string;
  /** `answered` (a `pong`, server-2021 style) or `dropped` (no `pong`, server-latest style). */
  ping?: "answered" | "dropped";
  signedIn?: boolean;
  user?: string;
  /** A rate limit the server announced or the probe hit; null when neither. */
  rateLimit?: string | null;
  commands?: Record<string, CommandAnswer>;
  steps: ProbeStep[];
}

export interface ProbeOptions {
  /** Sign in with these (optional: without, the walk ends at `ready` once the websocket answered). */
  credentials?: Credentials;
  /** Extra trusted CA (PEM) for wss://. */
  ca?: string;
  /** Accept any certificate (reported as a warning). */
  insecure?: boolean;
  /** Per-step timeout, ms (default 5000). */
  timeoutMs?: number;
  /** How long to wait for a `pong`, ms (default 1000). */
  pingWaitMs?: number;
  resolver?: Resolver;
}

/** The read commands the probe tries once signed in: cheap, harmless, valid against the spec (a test checks). */
export const PROBE_COMMANDS: ReadonlyArray<{ command: string; payload: Record<string, unknown> }> = [
  { command: "count", payload: { collectionname: "users", query: { _id: "openflow-spec-probe" } } },
  { command: "query", payload: { collectionname: "users", query: { _id: "openflow-spec-probe" }, top: 1 } },
  { command: "distinct", payload: { collectionname: "users", field: "_type", query: { _id: "openflow-spec-probe" } } },
  { command: "listcollections", payload: {} },
];

/** A command no server knows, to see how unknown commands are answered. */
export const UNKNOWN_PROBE_COMMAND = "openflow-spec-probe-unknown";

/** What a websocket close code usually means, for the report. */
export function closeCodeMeaning(code: number): string {
  const known: Record<number, string> = {
    1000: "normal closure: the server ended the session on purpose",
    1001: "going away: the server is shutting down, or a proxy's idle timeout",
    1002: "protocol error: the server could not read a websocket frame",
    1003: "unsupported data: the server does not accept this kind of message",
    1005: "no status code given",
    1006: "closed without a close frame: the connection was cut (a proxy, a crash, the network)",
    1007: "invalid data: a text frame that is not UTF-8",
    1008: "policy violation: refused by a rule of the server (a per-address limit, authentication, an origin check)",
    1009: "message too big: a frame above the server's limit (see websocket_package_size)",
    1010: "the client did not offer an extension the server needs",
    1011: "internal error on the server",
    1012: "service restart: try again shortly",
    1013: "try again later: the server is overloaded",
    1014: "bad gateway: a proxy got an invalid answer from the server behind it",
    1015: "TLS handshake failure",
  };
  if (known[code]) return known[code];
  if (code >= 4000 && code <= 4999) return "an application code of the server (see its documentation or logs)";
  if (code >= 3000 && code <= 3999) return "a code registered by a library or framework";
  return "not a standard close code";
}

/** What an HTTP status instead of `101 Switching Protocols` usually means. */
export function upgradeStatusMeaning(status: number, url: URL): { error: string; fix: string } {
  const paths = "OpenFlow servers answer on /, /ws or /ws/v1";
  if (status === 404) return { error: `HTTP 404: nothing at ${url.pathname}`, fix: `wrong path: ${paths}` };
  if (status === 400 || status === 426) {
    return {
      error: `HTTP ${status}: the server refused the websocket upgrade`,
      fix: "a proxy that does not pass websockets (nginx needs proxy_http_version 1.1 and the Upgrade and Connection headers), or plain HTTP sent to a TLS port (use wss://)",
    };
  }
  if (status === 401 || status === 403) return { error: `HTTP ${status}: refused before the websocket`, fix: "authentication or an IP rule in front of the server (a gateway or proxy), not the OpenFlow sign-in" };
  if (status === 502 || status === 504) return { error: `HTTP ${status}: a proxy could not reach the server behind it`, fix: "the OpenFlow server is down or the proxy points at the wrong port" };
  if (status === 503) return { error: "HTTP 503: service unavailable", fix: "the server is starting, overloaded, or at its connection limit (serve: --limit maxConnections); a proxy with no healthy backend" };
  if (status >= 300 && status < 400) return { error: `HTTP ${status}: a redirect instead of the upgrade`, fix: "websocket clients do not follow redirects: use the URL it points to (http to https means wss://)" };
  if (status >= 200 && status < 300) return { error: `HTTP ${status}: a plain HTTP answer instead of the upgrade`, fix: `a web page answers at ${url.pathname}, or a proxy that does not pass websockets; ${paths}` };
  return { error: `HTTP ${status} instead of 101 Switching Protocols`, fix: `check the URL (${paths}) and any proxy in front of the server` };
}

/** The fix for a TLS failure, by Node's error code. */
export function tlsFailure(code: string | undefined, message: string, host: string): { error: string; fix: string } {
  switch (code) {
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
    case "SELF_SIGNED_CERT_IN_CHAIN":
      return { error: `the certificate of ${host} is self-signed (${code})`, fix: "trust it with --ca FILE (the server's certificate or its CA, PEM); --insecure skips the check, for tests only" };
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
    case "UNABLE_TO_GET_ISSUER_CERT_LOCALLY":
    case "UNABLE_TO_GET_ISSUER_CERT":
      return { error: `the certificate of ${host} was issued by a CA this machine does not trust (${code})`, fix: "a private CA: pass it with --ca FILE; a public one: the server must send its intermediate certificates too" };
    case "ERR_TLS_CERT_ALTNAME_INVALID":
      return { error: `the certificate is not for ${host}: ${message}`, fix: "connect with a name the certificate lists, or issue a certificate for this name" };
    case "CERT_HAS_EXPIRED":
      return { error: `the certificate of ${host} has expired`, fix: "renew the server's certificate (and check this machine's clock)" };
    case "CERT_NOT_YET_VALID":
      return { error: `the certificate of ${host} is not valid yet`, fix: "check this machine's clock, or the certificate's start date" };
    case "ERR_SSL_WRONG_VERSION_NUMBER":
    case "ERR_SSL_PACKET_LENGTH_TOO_LONG":
    case "EPROTO":
      return { error: `${host} does not speak TLS on this port (${code})`, fix: "a plain port: use ws:// instead of wss://, or the TLS port" };
    case "ECONNRESET":
      return { error: `${host} reset the connection during the TLS handshake`, fix: "a plain port (use ws://), or a proxy that refuses this name (SNI)" };
    default:
      return { error: `TLS handshake with ${host} failed: ${message}${code ? ` (${code})` : ""}`, fix: "check the port and the server's certificate (openssl s_client -connect HOST:PORT shows it)" };
  }
}

function tcpFailure(code: string | undefined, message: string, where: string, timeoutMs: number): { error: string; fix: string } {
  switch (code) {
    case "ECONNREFUSED":
      return { error: `connection refused by ${where}: nothing listens on that port`, fix: "start the server, or check the port in the URL" };
    case "ETIMEDOUT":
      return { error: `no answer from ${where} within ${timeoutMs / 1000} s`, fix: "a firewall dropping packets, the wrong host, or the server is down" };
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return { error: `${where} is not reachable over the network (${code})`, fix: "check the host, the network and any VPN" };
    default:
      return { error: `cannot connect to ${where}: ${message}`, fix: "check the host and port" };
  }
}

const defaultPort = (url: URL) => Number(url.port || (url.protocol === "wss:" ? 443 : 80));
const hostOf = (url: URL) => url.hostname.replace(/^\[|\]$/g, "");

/** A raw websocket session: send frames, wait for the answer to one, see pushes and the close. */
class RawSession {
  private readonly reassembler = new Reassembler();
  private readonly waiters = new Set<{ match: (m: WireMessage) => boolean; resolve: (m: WireMessage | undefined) => void }>();
  readonly seen: WireMessage[] = [];
  closed: { code: number; reason: string } | undefined;
  private readonly closeWaiters = new Set<() => void>();

  constructor(readonly socket: WebSocket) {
    socket.on("message", (data, isBinary) => {
      if (isBinary) return;
      try {
        const result = this.reassembler.push(parseFrame(data.toString()), Date.now());
        if (!result.done) return;
        this.seen.push(result.message);
        for (const w of [...this.waiters]) {
          if (w.match(result.message)) {
            this.waiters.delete(w);
            w.resolve(result.message);
          }
        }
      } catch {
        // A frame the probe cannot read: the report shows the missing answer instead.
      }
    });
    socket.on("close", (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      for (const w of [...this.waiters]) w.resolve(undefined);
      this.waiters.clear();
      for (const c of [...this.closeWaiters]) c();
    });
    socket.on("error", () => {});
  }

  send(command: string, payload?: unknown): string {
    const id = newFrameId();
    const frame: Record<string, unknown> = { id, command, count: 1, index: 0 };
    if (payload !== undefined) frame.data = JSON.stringify(payload);
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
    return id;
  }

  /** The first message matching `match` within `ms`, or undefined (timeout or close). */
  waitFor(match: (m: WireMessage) => boolean, ms: number): Promise<WireMessage | undefined> {
    const already = this.seen.find(match);
    if (already) return Promise.resolve(already);
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiter = {
        match,
        resolve: (m: WireMessage | undefined) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        resolve(undefined);
      }, ms);
      this.waiters.add(waiter);
    });
  }

  /** Resolves when the socket closes or after `ms`, whichever is first. */
  settle(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.closeWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.closeWaiters.add(done);
    });
  }

  request(command: string, payload: unknown, ms: number): Promise<WireMessage | undefined> {
    const id = this.send(command, payload);
    return this.waitFor((m) => m.replyto === id || (m.command === "error" && !m.replyto && m.id === id), ms);
  }
}

function payloadOf(message: WireMessage): Record<string, unknown> | string | null {
  if (message.data === undefined || message.data === null || message.data === "") return null;
  try {
    const value = JSON.parse(message.data) as unknown;
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : String(value);
  } catch {
    return message.data;
  }
}

/** The failure text of a reply, or undefined when it is a success (docs/protocol.md#error-detection). */
function failureText(message: WireMessage): string | undefined {
  const payload = payloadOf(message);
  const fields = typeof payload === "object" && payload !== null ? payload : undefined;
  const error = fields?.["error"];
  if (typeof error === "string" && error !== "") return error;
  if (error !== undefined && error !== null && error !== false && error !== "") return JSON.stringify(error);
  if (message.command.toLowerCase() === "error") {
    const text = fields?.["message"];
    return typeof text === "string" && text !== "" ? text : typeof payload === "string" ? payload : "error reply without a message";
  }
  return undefined;
}

const isRateLimit = (text: string | undefined) => text !== undefined && /rate limit/i.test(text);

/** Walks the connection to `urlText` (already checked to be ws:// or wss://) and reports where it stops. */
export async function probeConnection(urlText: string, options: ProbeOptions = {}): Promise<ProbeReport> {
  const url = new URL(urlText);
  const timeoutMs = options.timeoutMs ?? 5000;
  const resolver = options.resolver ?? systemResolver;
  const host = hostOf(url);
  const port = defaultPort(url);
  const report: ProbeReport = { url: url.toString(), reachable: false, stage: "dns", steps: [] };
  const step = (stage: ProbeStage, status: ProbeStep["status"], detail: string) => report.steps.push({ stage, status, detail });
  const fail = (stage: ProbeStage, error: string, fix?: string): ProbeReport => {
    report.stage = stage;
    report.error = error;
    if (fix) report.fix = fix;
    step(stage, "failed", error);
    return report;
  };

  // DNS
  let address = host;
  if (isIP(host) !== 0) {
    step("dns", "ok", `${host} is an address: no lookup`);
  } else {
    try {
      address = (await withTimeout(resolver(host), timeoutMs, "ETIMEDOUT")).address;
      step("dns", "ok", `${host} resolves to ${address}`);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ETIMEDOUT" || code === "EAI_AGAIN") return fail("dns", `the name ${host} could not be resolved right now (${code})`, "a temporary DNS failure: try again, or check this machine's DNS settings");
      return fail("dns", `unknown host: ${host} does not resolve (${code ?? (err as Error).message})`, "check the spelling of the host name, or use its address");
    }
  }
  report.address = address;

  // TCP
  report.stage = "tcp";
  const where = `${isIP(address) === 6 ? `[${address}]` : address}:${port}`;
  try {
    const socket = await openTcp(address, port, timeoutMs);
    socket.destroy();
    step("tcp", "ok", `connected to ${where}`);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const { error, fix } = tcpFailure(e.code, e.message, where, timeoutMs);
    return fail("tcp", error, fix);
  }

  // TLS
  report.stage = "tls";
  if (url.protocol === "wss:") {
    try {
      const socket = await openTls(address, port, host, options, timeoutMs);
      const cert = socket.getPeerCertificate();
      report.tls = {
        authorized: socket.authorized,
        ...(cert?.subject?.CN ? { subject: String(cert.subject.CN) } : {}),
        ...(cert?.issuer?.CN ? { issuer: String(cert.issuer.CN) } : {}),
        ...(cert?.valid_to ? { validTo: cert.valid_to } : {}),
        ...(socket.authorizationError ? { authorizationError: String(socket.authorizationError) } : {}),
      };
      socket.destroy();
      step("tls", "ok", socket.authorized ? `certificate for ${report.tls.subject ?? host} accepted` : `certificate NOT verified (--insecure): ${String(socket.authorizationError ?? "")}`);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const { error, fix } = tlsFailure(e.code, e.message, host);
      return fail("tls", error, fix);
    }
  } else {
    step("tls", "skipped", "ws:// (no TLS)");
  }

  // HTTP upgrade
  report.stage = "upgrade";
  const opened = await openWebSocket(url.toString(), options, resolver, timeoutMs);
  if (!opened.ok) {
    if (opened.status !== undefined) {
      report.httpStatus = opened.status;
      const meaning = upgradeStatusMeaning(opened.status, url);
      let fix = meaning.fix;
      if (opened.status === 404) {
        const better = await otherPath(url, options, resolver, timeoutMs);
        if (better) fix = `wrong path: ${better} upgrades`;
      }
      return fail("upgrade", `${meaning.error}${opened.server ? ` (server: ${opened.server})` : ""}`, fix);
    }
    if (url.protocol === "ws:" && (await speaksTls(address, port, timeoutMs))) {
      const secure = new URL(url.toString());
      secure.protocol = "wss:";
      return fail("upgrade", `the websocket upgrade failed: ${opened.message}; the port speaks TLS`, `use ${secure.toString()}`);
    }
    const { error, fix } = opened.timeout
      ? { error: `no answer to the websocket upgrade within ${timeoutMs / 1000} s`, fix: "a proxy that holds upgrade requests, or a server that is not HTTP on this port" }
      : { error: `the websocket upgrade failed: ${opened.message}`, fix: "check the URL and any proxy in front of the server" };
    return fail("upgrade", error, fix);
  }
  report.httpStatus = 101;
  report.reachable = true;
  step("upgrade", "ok", "HTTP 101 Switching Protocols");

  const session = new RawSession(opened.socket);
  const closedAt = (stage: ProbeStage, doing: string): ProbeReport => {
    const { code, reason } = session.closed as { code: number; reason: string };
    report.closeCode = code;
    if (reason) report.closeReason = reason;
    return fail(stage, `the server closed the websocket ${doing} with code ${code}${reason ? ` "${reason}"` : ""}: ${closeCodeMeaning(code)}`, code === 1009 ? "send smaller frames (chunk at websocket_package_size)" : code === 1008 ? "see the server's log for the rule that refused this connection" : undefined);
  };
  try {
    // The websocket: does it stay open, and what does it do with a ping?
    report.stage = "websocket";
    const pingId = session.send("ping");
    const pong = await session.waitFor((m) => m.command.toLowerCase() === "pong" && (m.replyto === pingId || !m.replyto), options.pingWaitMs ?? 1000);
    if (session.closed) return closedAt("websocket", "right after opening");
    report.ping = pong ? "answered" : "dropped";
    step("websocket", "ok", pong ? "open; ping answered with pong (server-2021 style)" : "open; ping dropped, no pong (server-latest style: any frame keeps the connection alive)");

    // Sign-in
    report.stage = "signin";
    if (options.credentials) {
      const reply = await session.request("signin", { ...options.credentials, clientagent: "openflow-spec-probe" }, timeoutMs);
      if (!reply) {
        if (session.closed) return closedAt("signin", "during sign-in");
        return fail("signin", `no answer to signin within ${timeoutMs / 1000} s`, "is this an OpenFlow server? (the websocket opened, but nothing answers the protocol)");
      }
      const refused = failureText(reply);
      const who = "username" in options.credentials ? options.credentials.username : "the token";
      if (refused !== undefined) {
        if (isRateLimit(refused)) {
          report.rateLimit = `hit during the probe: ${refused}`;
          return fail("signin", `sign-in as ${who} refused by the rate limit: ${refused}`, "too many messages on this connection: wait for the window to pass and probe again");
        }
        return fail("signin", `sign-in as ${who} refused: ${refused}`, "check the user name and password (--user NAME:PASSWORD), or the token's expiry");
      }
      const payload = payloadOf(reply);
      const fields = typeof payload === "object" && payload !== null ? payload : {};
      report.signedIn = true;
      const user = fields["user"] as { username?: unknown; name?: unknown } | undefined;
      if (typeof user?.username === "string") report.user = user.username;
      const size = fields["websocket_package_size"];
      if (typeof size === "number") report.packageSize = size;
      const announced = Object.entries(fields).filter(([k]) => /rate.?limit|ratelimit/i.test(k));
      report.rateLimit = announced.length > 0 ? announced.map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(", ") : null;
      step("signin", "ok", `signed in as ${report.user ?? who}${typeof size === "number" ? `; websocket_package_size ${size}` : "; no websocket_package_size in the reply (clients keep 25000)"}`);
    } else {
      report.signedIn = false;
      step("signin", "skipped", "no --user, --jwt or OPENFLOW_USER: sign-in and commands not tried");
    }

    // Error style: a query without its required fields.
    const bad = await session.request("query", {}, timeoutMs);
    if (!bad && session.closed) return closedAt("websocket", "after a malformed request");
    if (!bad) {
      report.errorStyle = "unknown";
      report.errorStyleEvidence = "a query without collectionname got no answer";
    } else if (bad.command.toLowerCase() === "error") {
      report.errorStyle = "latest";
      report.errorStyleEvidence = `a query without collectionname was answered with command "error": ${failureText(bad) ?? ""}`;
    } else if (failureText(bad) !== undefined) {
      report.errorStyle = "2021";
      report.errorStyleEvidence = `a query without collectionname was answered with command "${bad.command}" and error: ${failureText(bad) ?? ""}`;
    } else {
      report.errorStyle = "unknown";
      report.errorStyleEvidence = `a query without collectionname was answered as a success (command "${bad.command}")`;
    }
    if (isRateLimit(bad ? failureText(bad) : undefined)) report.rateLimit = `hit during the probe: ${failureText(bad as WireMessage) ?? ""}`;

    if (options.credentials) {
      const answers: Record<string, CommandAnswer> = {};
      for (const { command, payload } of [...PROBE_COMMANDS, { command: UNKNOWN_PROBE_COMMAND, payload: {} }]) {
        const reply = await session.request(command, payload, timeoutMs);
        if (!reply) {
          if (session.closed) return closedAt("ready", `while trying ${command}`);
          answers[command] = "no answer";
          continue;
        }
        const text = failureText(reply);
        if (isRateLimit(text)) report.rateLimit = `hit during the probe: ${text ?? ""}`;
        if (text === undefined) {
          // server-2021 answers an unknown command with `{message: "Unknown command ..."}` and no `error` (Q8).
          const message = (payloadOf(reply) as { message?: unknown } | null)?.message;
          answers[command] = typeof message === "string" && /^unknown command/i.test(message) ? "unknown command" : "answers";
        } else answers[command] = /^unknown command/i.test(text) ? "unknown command" : `error: ${text}`;
      }
      report.commands = answers;
    }
    await session.settle(50);
    if (session.closed) return closedAt("ready", "at the end of the probe");
    report.stage = "ready";
    step("ready", "ok", options.credentials ? "connected and signed in" : "connected (not signed in)");
    return report;
  } finally {
    opened.socket.terminate();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, code: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(Object.assign(new Error(`timed out after ${ms} ms`), { code })), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

function openTcp(address: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: address, port });
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(Object.assign(new Error(`timed out after ${timeoutMs} ms`), { code: "ETIMEDOUT" }));
    });
    socket.once("connect", () => {
      socket.setTimeout(0);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

function openTls(address: string, port: number, host: string, options: ProbeOptions, timeoutMs: number): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host: address,
      port,
      ...(isIP(host) === 0 ? { servername: host } : {}),
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
      rejectUnauthorized: options.insecure !== true,
      // The name checked is the URL's, even though the connection goes to the resolved address.
      checkServerIdentity: (_name, cert) => checkServerIdentity(host, cert),
    });
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(Object.assign(new Error(`no TLS handshake within ${timeoutMs} ms`), { code: "ETIMEDOUT" }));
    });
    socket.once("secureConnect", () => {
      socket.setTimeout(0);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/** True when a TLS handshake (any certificate) succeeds on the port: a ws:// URL that should be wss://. */
async function speaksTls(address: string, port: number, timeoutMs: number): Promise<boolean> {
  try {
    const socket = await openTls(address, port, address, { insecure: true }, timeoutMs);
    socket.destroy();
    return true;
  } catch {
    return false;
  }
}

type Opened = { ok: true; socket: WebSocket } | { ok: false; status?: number; server?: string; message: string; timeout?: boolean };

function openWebSocket(url: string, options: ProbeOptions, resolver: Resolver, timeoutMs: number): Promise<Opened> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, {
      handshakeTimeout: timeoutMs,
      lookup: lookupVia(resolver) as never,
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
      ...(options.insecure ? { rejectUnauthorized: false } : {}),
    });
    let done = false;
    const finish = (result: Opened) => {
      if (done) return;
      done = true;
      resolve(result);
    };
    socket.once("open", () => finish({ ok: true, socket }));
    socket.once("unexpected-response", (req, res) => {
      const server = res.headers["server"];
      finish({ ok: false, status: res.statusCode ?? 0, ...(typeof server === "string" ? { server } : {}), message: `HTTP ${res.statusCode}` });
      res.resume();
      req.destroy();
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      finish({ ok: false, message: err.message, timeout: /timed? ?out/i.test(err.message) });
    });
  });
}

/** A path among /, /ws and /ws/v1 where the upgrade works, as a full URL, when the given one gave 404. */
async function otherPath(url: URL, options: ProbeOptions, resolver: Resolver, timeoutMs: number): Promise<string | undefined> {
  for (const path of ["/ws/v1", "/ws", "/"]) {
    if (path === url.pathname) continue;
    const candidate = new URL(url.toString());
    candidate.pathname = path;
    const opened = await openWebSocket(candidate.toString(), options, resolver, timeoutMs);
    if (opened.ok) {
      opened.socket.terminate();
      return candidate.toString();
    }
  }
  return undefined;
}
