/**
 * Redaction of secrets in recorded traffic. The value of every secret field (./secrets.ts) is replaced, at any
 * depth of a frame, inside JSON text held in strings (a queue message body, JSON inside JSON inside JSON), and
 * whatever the encoding: key case, `\u` escapes in key names, duplicate keys (JSON.parse keeps the last, so text
 * that names a secret is always re-serialized from what was parsed and redacted, never copied), numbers.
 *
 * When in doubt the whole value goes: text that names a secret field (`"password":`, `password=`) but does not
 * parse as JSON (broken JSON, a byte-order mark before it, JSON after some other text) is replaced as a whole by
 * "[redacted]". A well-formed redacted payload stays valid JSON with every field present: a secret string becomes
 * "[redacted]", a secret number 0, a secret object or array "[redacted]"; `null`, `""` and booleans hold nothing
 * and are kept.
 */

export const REDACTED = "[redacted]";

/** Deeper than this, a value is replaced as a whole (nothing below it is inspected, so nothing can leak). */
const MAX_DEPTH = 256;

/** Characters a key may carry around a secret name that no server would read as part of it. */
const INVISIBLE = /[\s\u200b-\u200f\u2060\ufeff]/g;

function isSecretKey(key: string, secrets: ReadonlySet<string>): boolean {
  return secrets.has(key.toLowerCase()) || secrets.has(key.replace(INVISIBLE, "").toLowerCase());
}

/** The replacement for a secret field's value (see the module comment). */
function secretValue(item: unknown): unknown {
  if (item === null || item === undefined || item === "" || typeof item === "boolean") return item;
  if (typeof item === "number") return item === 0 ? item : 0;
  return REDACTED;
}

/** A copy of `value` with secrets replaced, or `value` itself when it holds none. */
export function redactValue(value: unknown, secrets: ReadonlySet<string>, depth = 0): unknown {
  if (depth > MAX_DEPTH) return REDACTED;
  if (typeof value === "string") return redactText(value, secrets, depth + 1);
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
    const next = isSecretKey(key, secrets) ? secretValue(item) : redactValue(item, secrets, depth + 1);
    if (next !== item) {
      copy ??= { ...value };
      // defineProperty: a "__proto__" key stays an own data property.
      Object.defineProperty(copy, key, { value: next, enumerable: true, writable: true, configurable: true });
    }
  }
  return copy ?? value;
}

const finders = new WeakMap<ReadonlySet<string>, { name: RegExp; field: RegExp }>();

function findersFor(secrets: ReadonlySet<string>): { name: RegExp; field: RegExp } {
  let f = finders.get(secrets);
  if (!f) {
    const names = [...secrets].map((name) => name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|");
    // A secret name as a field: followed by closing quotes/backslashes/blanks and `:` or `=`.
    f = { name: new RegExp(names, "i"), field: new RegExp(`(?:${names})[\\s"'\\\\\\u200b-\\u200f\\u2060\\ufeff]*[:=]`, "i") };
    finders.set(secrets, f);
  }
  return f;
}

/**
 * Cheap pre-check: false only when `text` cannot hold a secret field (no secret name in it, and no `\u` escape
 * that could spell one), so most messages are never parsed for redaction.
 */
export function mayHoldSecret(text: string, secrets: ReadonlySet<string>): boolean {
  if (secrets.size === 0) return false;
  return findersFor(secrets).name.test(text) || text.includes("\\u");
}

/** Decode `\uXXXX` escapes, at any level of escaping, so a spelled-out name is seen. */
function unescapeLoose(text: string): string {
  let out = text;
  for (let i = 0; i < 8 && /\\+u[0-9a-fA-F]{4}/.test(out); i++) out = out.replace(/\\+u([0-9a-fA-F]{4})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return out;
}

/** True when `text` (not parsed) names a secret field: `"password":`, `\"jwt\":`, `password=`, escapes decoded. */
export function namesSecretField(text: string, secrets: ReadonlySet<string>): boolean {
  if (!mayHoldSecret(text, secrets)) return false;
  const { field } = findersFor(secrets);
  return field.test(text) || field.test(unescapeLoose(text));
}

/**
 * Text with its secrets replaced: the same string when it cannot hold one; JSON text re-serialized from its
 * redacted parse (so duplicate keys cannot hide a value); "[redacted]" for text that names a secret field but is
 * not JSON; otherwise the text unchanged.
 */
export function redactText(text: string, secrets: ReadonlySet<string>, depth = 0): string {
  if (!mayHoldSecret(text, secrets)) return text;
  if (depth > MAX_DEPTH) return REDACTED;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return namesSecretField(text, secrets) ? REDACTED : text;
  }
  if (typeof parsed === "string") {
    // JSON text of a string (JSON inside JSON): redact what it holds.
    const inner = redactText(parsed, secrets, depth + 1);
    return inner === parsed ? text : JSON.stringify(inner);
  }
  if (typeof parsed !== "object" || parsed === null) return text;
  const redacted = redactValue(parsed, secrets, depth + 1);
  const serialized = JSON.stringify(redacted);
  // Unchanged and already in canonical form (no duplicate keys, no blanks): keep the original text.
  return redacted === parsed && serialized === text ? text : serialized;
}

/**
 * A frame with the secrets in every field replaced (`data` as JSON text, or an object some peers send); the same
 * object when none. With `dataDone`, `data` is taken as already redacted (a re-cut chunk of a redacted message).
 */
export function redactFrame(frame: Record<string, unknown>, secrets: ReadonlySet<string>, dataDone = false): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const [key, item] of Object.entries(frame)) {
    if (key === "data" && dataDone) continue;
    const next = isSecretKey(key, secrets) ? secretValue(item) : redactValue(item, secrets, 1);
    if (next !== item) {
      copy ??= { ...frame };
      Object.defineProperty(copy, key, { value: next, enumerable: true, writable: true, configurable: true });
    }
  }
  return copy ?? frame;
}
