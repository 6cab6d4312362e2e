/**
 * Whether an error text appears in the lines it cites. The one placeholder syntax of error texts is `<name>`
 * (letters, digits, `_ . | -` and spaces: `<username>`, `<id|filename>`, `<query json>`): it stands for a value
 * the code fills in and matches any text on the same line. Everything outside placeholders must appear verbatim,
 * as a whole string literal (from its opening quote to its closing one).
 * The cited code is compared with its string escapes undone (`\"` reads as `"`, `\n` as a line break), and a
 * literal split by a concatenation (`"File " + id + " not found"`) matches because the `" + id + "` part falls
 * inside a placeholder.
 *
 * Texts the JavaScript engine writes itself (a crash on a missing field) are not in the code: for those the
 * range must contain the property the crash is about (see RUNTIME_MESSAGES).
 */

/** The placeholder syntax: `<name>`. */
export const PLACEHOLDER = /<[A-Za-z0-9_.|\- ]+>/g;

/**
 * Messages of V8's own TypeErrors. The capture names the property the cited range must touch; a message without
 * one (`Cannot convert undefined or null to object`) needs the operation that raises it in the range instead.
 */
export const RUNTIME_MESSAGES: readonly RegExp[] = [
  /^Cannot read properties of (?:undefined|null) \(reading '([^']+)'\)$/,
  /^Cannot set properties of (?:undefined|null) \(setting '([^']+)'\)$/,
  /^Cannot create property '([^']+)' on (?:string|number|boolean) '.*'$/,
  /^(\S+) is not a function$/,
  /^(\S+) is not iterable$/,
  /^Cannot convert undefined or null to object$/,
];

/** What raises a property-less runtime message: `delete a.b`, `Object.keys(x)` and friends. */
const CONVERT_WITNESS = /\bdelete\s+[\w$.[\]"']+|\bObject\.(?:keys|values|entries|assign)\(/;

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Undo the usual string escapes of JS/TS and C#, so quoted text can be searched in code. */
export function unescapeCode(code: string): string {
  return code.replace(/\\(["'`\\nrt])/g, (_, c: string) => (c === "n" ? "\n" : c === "r" ? "\r" : c === "t" ? "\t" : c));
}

/**
 * The regular expression an error text becomes: literals verbatim, each `<name>` any run of non-newline text. The
 * text must be a whole string literal: a quote before its first literal and after its last (unless it starts or
 * ends with a placeholder), so "Access denied" is not found in "Access denied creating customer".
 */
export function quotePattern(text: string): RegExp {
  const parts = text.split(PLACEHOLDER).map(escapeRegExp);
  const open = parts[0] === "" ? "" : "(?<=[\"'`])";
  const close = parts[parts.length - 1] === "" ? "" : "(?=[\"'`])";
  return new RegExp(open + parts.join("[^\\n]*?") + close);
}

/**
 * The property a runtime TypeError text is about ("" for a message that names none), or undefined when the text
 * is not one of RUNTIME_MESSAGES.
 */
export function runtimeProperty(text: string): string | undefined {
  for (const re of RUNTIME_MESSAGES) {
    const m = re.exec(text);
    if (m) return m[1] ?? "";
  }
  return undefined;
}

/**
 * Whether `text` is quoted in `code` (the cited lines). A runtime TypeError text is found when the lines touch its
 * property (`.name`, `["name"]`, or the bare name).
 */
export function quotedIn(text: string, code: string): boolean {
  const plain = unescapeCode(code);
  if (quotePattern(text).test(plain) || quotePattern(text).test(code)) return true;
  const property = runtimeProperty(text);
  if (property === "") return CONVERT_WITNESS.test(code);
  if (property !== undefined) {
    const bare = property.replace(/\(\)$/, "").split(".").pop() as string;
    return new RegExp(`(^|[^A-Za-z0-9_$])${escapeRegExp(bare)}([^A-Za-z0-9_$]|$)`).test(code);
  }
  return false;
}
