/**
 * Logging with redaction. The runtime logs through an injectable `Logger`; everything it hands over passes
 * `redact` first, so JWTs, passwords and other credentials never reach a log line or an error message.
 */

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

/** What the runtime calls. Any object with these methods works (console, pino, winston...). */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const levels: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/**
 * Keys whose values are always replaced, wherever they appear (lower-cased comparison). A superset of the fields
 * the schemas mark `"x-openflow": {"secret": true}` (the runtime cannot read schemas/; test/security/
 * redaction-fuzz.test.ts fails when a marked field is missing here).
 */
const secretKeys = new Set([
  "jwt",
  "__jwt",
  "password",
  "newpassword",
  "passwordhash",
  "rawassertion",
  "token",
  "access_token",
  "refresh_token",
  "id_token",
  "authorization",
  "secret",
  "apikey",
  "api_key",
  "firebasetoken",
]);

/** A compact JWS/JWT: three base64url parts, the first starting with `eyJ` (`{"`). */
const jwtPattern = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/g;
/** The secret key names for patterns (longest first, so `newpassword` is not read as `password`). */
const secretNames = [...secretKeys].sort((a, b) => b.length - a.length).map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|");
/**
 * A secret field inside JSON text that was not parsed (error text, raw frames, JSON inside JSON strings): the key,
 * quoted at any level of escaping, and its value: a JSON string at that level, an escaped string one level down, a
 * number, or anything else up to the next delimiter.
 */
const secretJsonPattern = new RegExp(
  `(\\\\*"(?:${secretNames})\\\\*"\\s*:\\s*)("(?:[^"\\\\]|\\\\.)*"|\\\\+"(?:(?!\\\\+").)*\\\\+"|-?\\d[\\d.eE+-]*|[^,}\\]\\s]+)`,
  "gi",
);

/** The keys the logger always redacts (lower case). */
export const loggerSecretKeys: ReadonlySet<string> = secretKeys;

export const REDACTED = "[redacted]";

/** Remove tokens and `"password":"..."` pairs from free text. */
export function redactText(text: string): string {
  return text.replace(jwtPattern, REDACTED).replace(secretJsonPattern, (_m, key: string, value: string) => {
    // Keep the quoting level of the value so the text stays as parseable as it was.
    const escaped = /^\\+"/.exec(value)?.[0];
    return escaped ? `${key}${escaped}${REDACTED}${escaped}` : `${key}"${REDACTED}"`;
  });
}

/**
 * A redacted deep copy of `value`: secret keys replaced, JWT-looking strings replaced, long strings cut.
 * Bounded in depth and size so logging a 20 MB payload stays cheap.
 */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === "string") {
    const cut = value.length > 2000 ? `${value.slice(0, 2000)}... (${value.length} chars)` : value;
    return redactText(cut);
  }
  if (value === null || typeof value !== "object") return value;
  if (value instanceof Error) return redactText(value.message);
  if (depth >= 6) return "[...]";
  if (Array.isArray(value)) {
    const out = value.slice(0, 50).map((v) => redact(v, depth + 1));
    if (value.length > 50) out.push(`... (${value.length} items)`);
    return out;
  }
  const out: Record<string, unknown> = {};
  let n = 0;
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (++n > 100) {
      out["..."] = "(more keys)";
      break;
    }
    out[key] = secretKeys.has(key.toLowerCase()) && v !== undefined && v !== null && v !== "" ? REDACTED : redact(v, depth + 1);
  }
  return out;
}

/** A logger writing to the console at `level` and above. */
export function consoleLogger(level: LogLevel = "warn"): Logger {
  const min = levels[level];
  const write = (at: Exclude<LogLevel, "silent">) => (message: string, fields?: Record<string, unknown>) => {
    if (levels[at] < min) return;
    const sink = at === "debug" ? console.debug : at === "info" ? console.info : at === "warn" ? console.warn : console.error;
    if (fields === undefined) sink(`[openflow] ${message}`);
    else sink(`[openflow] ${message}`, fields);
  };
  return { debug: write("debug"), info: write("info"), warn: write("warn"), error: write("error") };
}

/** A logger that drops everything. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Wrap a user logger so every message and field is redacted first, and a throwing logger cannot break the
 * client. `level` filters before any redaction work is done.
 */
export function safeLogger(inner: Logger, level: LogLevel = "debug"): Logger {
  const min = levels[level];
  const wrap = (at: Exclude<LogLevel, "silent">) => (message: string, fields?: Record<string, unknown>) => {
    if (levels[at] < min) return;
    try {
      if (fields === undefined) inner[at](redactText(message));
      else inner[at](redactText(message), redact(fields) as Record<string, unknown>);
    } catch {
      // A broken logger must not take the connection down.
    }
  };
  return { debug: wrap("debug"), info: wrap("info"), warn: wrap("warn"), error: wrap("error") };
}
