/**
 * Redaction of secrets in recorded traffic: the value of every secret field (./secrets.ts) becomes "[redacted]",
 * at any depth of a payload and inside JSON text held in string fields (a queue message body sent as text). The
 * JSON stays valid, the field stays present and keeps its type, so a redacted capture validates like the original.
 */

export const REDACTED = "[redacted]";

/** Deeper than this, a value is replaced as a whole (nothing below it is inspected, so nothing can leak). */
const MAX_DEPTH = 256;

function looksLikeJson(text: string): boolean {
  const c = text.trimStart().charCodeAt(0);
  return c === 0x7b || c === 0x5b; // { or [
}

/** A copy of `value` with secrets replaced, or `value` itself when it holds none. */
export function redactValue(value: unknown, secrets: ReadonlySet<string>, depth = 0): unknown {
  if (depth > MAX_DEPTH) return REDACTED;
  if (typeof value === "string") {
    if (!looksLikeJson(value)) return value;
    const inner = redactText(value, secrets, depth + 1);
    return inner;
  }
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item, i) => {
      const next = redactValue(item, secrets, depth + 1);
      if (next !== item) (copy ??= value.slice())[i] = next;
    });
    return copy ?? value;
  }
  let copy: Record<string, unknown> | undefined;
  for (const [key, item] of Object.entries(value)) {
    let next: unknown;
    if (secrets.has(key.toLowerCase())) next = typeof item === "string" ? (item === "" ? item : REDACTED) : item === null || typeof item === "boolean" || typeof item === "number" ? item : REDACTED;
    else next = redactValue(item, secrets, depth + 1);
    if (next !== item) (copy ??= { ...value })[key] = next;
  }
  return copy ?? value;
}

const finders = new WeakMap<ReadonlySet<string>, RegExp>();

/**
 * Cheap pre-check: false only when `text` cannot hold a secret field (no secret name in it, and no `\u` escape
 * that could spell one), so most messages are never parsed for redaction.
 */
export function mayHoldSecret(text: string, secrets: ReadonlySet<string>): boolean {
  if (secrets.size === 0) return false;
  let finder = finders.get(secrets);
  if (!finder) {
    finder = new RegExp([...secrets].map((name) => name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"), "i");
    finders.set(secrets, finder);
  }
  return finder.test(text) || text.includes("\\u");
}

/**
 * JSON text with its secrets replaced (re-serialized only when something changed), or the same string when it
 * holds none or is not JSON.
 */
export function redactText(text: string, secrets: ReadonlySet<string>, depth = 0): string {
  if (!mayHoldSecret(text, secrets)) return text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text;
  }
  const redacted = redactValue(parsed, secrets, depth);
  return redacted === parsed ? text : JSON.stringify(redacted);
}

/** A frame with the secrets in its `data` (JSON text, or an object some peers send) replaced; the same object when none. */
export function redactFrame(frame: Record<string, unknown>, secrets: ReadonlySet<string>): Record<string, unknown> {
  const data = frame.data;
  const next = typeof data === "string" ? redactText(data, secrets) : redactValue(data, secrets);
  return next === data ? frame : { ...frame, data: next };
}
