/**
 * The client's side of a proxied websocket handshake, checked before anything is opened upstream: a request the
 * proxy cannot forward faithfully, or one that could reach an upstream path other than the configured one, is
 * answered with an HTTP error (400, 404) and touches nothing else. Every function here is total: it returns a
 * refusal instead of throwing, so no client-chosen header can end the process (a duplicated subprotocol once did:
 * `ws` throws synchronously when asked to offer `chat, chat` upstream).
 */
import type { IncomingMessage } from "node:http";

/** A handshake the proxy refuses: the HTTP status and a one-line reason (ASCII, no client text). */
export interface Refusal {
  status: number;
  message: string;
}

/** What the proxy needs from an accepted client handshake. */
export interface ClientHandshake {
  /** The upstream URL to open: the configured one, plus the client's sub-path and query when it gave one. */
  target: string;
  /** Subprotocols the client offered, in its order, each once. */
  protocols: string[];
}

/** RFC 7230 token characters: what RFC 6455 allows in a subprotocol name. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A 16-byte nonce in base64 (RFC 6455 section 4.1). */
const KEY = /^[+/0-9A-Za-z]{22}==$/;
/** Characters allowed verbatim in a path segment (RFC 3986 pchar without `%`, which is checked apart). */
const PCHAR = /^[A-Za-z0-9\-._~!$&'()*+,;=:@]*$/;

const refuse = (status: number, message: string): Refusal => ({ status, message });

/** The subprotocols of a `Sec-WebSocket-Protocol` header, or a refusal (empty names, bad characters, repeats). */
export function parseSubprotocols(header: string | undefined): string[] | Refusal {
  if (header === undefined) return [];
  const out: string[] = [];
  for (const raw of header.split(",")) {
    const name = raw.trim();
    if (!TOKEN.test(name)) return refuse(400, "Invalid Sec-WebSocket-Protocol header");
    if (out.includes(name)) return refuse(400, "Duplicate subprotocol in Sec-WebSocket-Protocol header");
    out.push(name);
  }
  return out;
}

/**
 * Decode one percent-escape-bearing path segment, refusing escapes that could change how the upstream splits or
 * normalises the path: an encoded `/`, `\`, `.`, `%`, a control character, or a malformed escape.
 */
function checkSegment(segment: string): Refusal | undefined {
  const bare = segment.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => {
    const code = parseInt(hex, 16);
    // Letters, digits and - _ ~ may be escaped harmlessly; anything else is refused below.
    return /[A-Za-z0-9\-_~]/.test(String.fromCharCode(code)) ? "a" : "\u0000";
  });
  if (bare.includes("%") || bare.includes("\u0000")) return refuse(400, "Path holds an encoded separator, dot, percent sign or control character");
  if (!PCHAR.test(bare)) return refuse(400, "Path holds a character that must be escaped");
  // `..;x` is a dot segment to servers that strip path parameters (Tomcat, Jetty): refused as well.
  if (/^\.+(;.*)?$/.test(segment)) return refuse(400, "Path holds a dot segment");
  return undefined;
}

/**
 * The upstream URL for a client request target: the configured URL's path, below which the client's sub-path (if
 * any) is appended, and the client's query string (the configured one when the client gave none). The result
 * always lies under the configured path: dot segments, encoded separators and dots, backslashes and
 * absolute-form targets (`http://other/`) are refused with 400, never resolved.
 */
export function upstreamTarget(base: URL, requestTarget: string | undefined): string | Refusal {
  const target = requestTarget ?? "/";
  if (!target.startsWith("/") || target.startsWith("//")) return refuse(400, "Request target must be a path starting with a single /");
  const q = target.indexOf("?");
  const path = q === -1 ? target : target.slice(0, q);
  const query = q === -1 ? undefined : target.slice(q + 1);
  if (query !== undefined && /[\u0000-\u0020\u007f-\uffff#]/.test(query)) return refuse(400, "Query string holds a character that must be escaped");
  const segments = path.slice(1).split("/");
  for (const segment of segments) {
    const refusal = checkSegment(segment);
    if (refusal) return refusal;
  }
  const url = new URL(base.href);
  const sub = path === "/" ? "" : path.slice(1);
  if (sub !== "") url.pathname = `${url.pathname.replace(/\/+$/, "")}/${sub}`;
  if (query !== undefined) url.search = query;
  // Belt and braces: whatever URL parsing did, the path must still start with the configured one.
  const configured = base.pathname.replace(/\/+$/, "");
  if (!(url.pathname === base.pathname || url.pathname === configured || url.pathname.startsWith(`${configured}/`))) {
    return refuse(400, "Path leaves the configured upstream path");
  }
  return url.href;
}

/**
 * Check a client's upgrade request as a websocket server would (RFC 6455 section 4.2.1), before any upstream
 * connection is opened. Returns what to open upstream, or the refusal to answer with.
 */
export function checkClientHandshake(req: IncomingMessage, base: URL): ClientHandshake | Refusal {
  if (req.method !== "GET") return refuse(405, "Method Not Allowed");
  const upgrade = req.headers.upgrade;
  if (typeof upgrade !== "string" || upgrade.toLowerCase() !== "websocket") return refuse(400, "Invalid Upgrade header");
  const key = req.headers["sec-websocket-key"];
  if (typeof key !== "string" || !KEY.test(key.trim())) return refuse(400, "Missing or invalid Sec-WebSocket-Key header");
  const version = req.headers["sec-websocket-version"];
  if (version !== "13" && version !== "8") return refuse(400, "Missing or invalid Sec-WebSocket-Version header");
  const protocols = parseSubprotocols(req.headers["sec-websocket-protocol"]);
  if (!Array.isArray(protocols)) return protocols;
  const target = upstreamTarget(base, req.url);
  if (typeof target !== "string") return target;
  return { target, protocols };
}

/** True when `value` is a refusal. */
export function isRefusal(value: unknown): value is Refusal {
  return typeof value === "object" && value !== null && "status" in value && "message" in value;
}
