/**
 * Escaping of peer-chosen text (frame ids, commands, field names, close reasons, file names) before it reaches a
 * report or a log. A capture is written by whoever sends the traffic, and CI logs interpret what they print: a
 * line starting with `::` is a GitHub Actions workflow command (`::error`, `::add-mask::`, `::stop-commands::`),
 * `##[...]`/`##vso[...]` lines are Azure/legacy commands, and terminals obey escape sequences. So every character
 * that could end a line or steer a terminal (C0 and C1 controls, DEL, U+2028/U+2029, bidirectional overrides,
 * lone surrogates) is written as a visible `\uXXXX`; the text then stays on the one line our own prefix starts.
 */

/** Characters written as `\uXXXX`: controls, line/paragraph separators, bidi controls, BOM, lone surrogates. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const hex = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;

/** `text` with every control, separator and bidi character written as a visible `\uXXXX`. */
export function displayText(text: string): string {
  return text.replace(UNSAFE, hex);
}

/**
 * A name that starts a report line (a file path): escaped, and prefixed with `./` when it would start the line
 * with something a log reads as a command (`::`, `##`) or with blanks a log may strip first.
 */
export function lineStart(name: string): string {
  const safe = displayText(name);
  return /^[\s:#]/.test(safe) ? `./${safe}` : safe;
}

/**
 * JSON text with the characters JSON.stringify leaves raw but `displayText` escapes (C1 controls, U+2028/2029,
 * bidi controls) written as JSON `\uXXXX` escapes: the value reads back identical, and the text holds no raw
 * control character.
 */
export function safeJson(value: unknown): string {
  return JSON.stringify(value).replace(UNSAFE, hex);
}
