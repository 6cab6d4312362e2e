/**
 * Regular expressions from clients run on RE2 (`re2js`, a pure-JS port of Google's linear-time engine), never on
 * V8's backtracking engine: `(a+)+$` against a long string of `a` froze the process for minutes. A pattern RE2
 * cannot run in linear time (back-references, look-around) is refused by name. Every match is charged to the
 * request's budget (querylimits.ts) in proportion to input length x program size, so many matches on long
 * strings end that one request, not the server.
 */
import { RE2JS } from "re2js";
import { commandError } from "./errors.js";
import { charge, currentLimits } from "./querylimits.js";

interface Compiled {
  re: RE2JS;
  /** Work units one character of input costs (RE2's NFA visits at most every instruction per character). */
  unitsPerChar: number;
}

const cache = new Map<string, Compiled>();
const CACHE_SIZE = 500;

function re2Flags(flags: string): number {
  let out = 0;
  for (const f of flags) {
    if (f === "i") out |= RE2JS.CASE_INSENSITIVE;
    else if (f === "m") out |= RE2JS.MULTILINE;
    else if (f === "s") out |= RE2JS.DOTALL;
    // g, y, d, u, v change how JS iterates or reports; RE2 is always Unicode-aware and is matched once here.
  }
  return out;
}

/** Compile `source`/`flags` for RE2 (cached); a pattern RE2 refuses is a command error naming the reason. */
export function compileLinear(source: string, flags: string): Compiled {
  const max = currentLimits().maxRegexChars;
  if (source.length > max) throw commandError(`regular expression is ${source.length} characters long; the limit (limits.maxRegexChars) is ${max}`);
  const key = `${flags}/${source}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let re: RE2JS;
  try {
    re = RE2JS.compile(RE2JS.translateRegExp(source), re2Flags(flags));
  } catch (err) {
    throw commandError(`regular expression /${source.length > 100 ? `${source.slice(0, 100)}...` : source}/ is not supported by the linear-time engine (RE2): ${(err as Error).message}`);
  }
  const compiled = { re, unitsPerChar: Math.max(1, Math.ceil(re.programSize() / 64)) };
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  cache.set(key, compiled);
  return compiled;
}

/**
 * A RegExp whose matching runs on RE2. It is still `instanceof RegExp` (mingo tells regular expressions from
 * other values that way); `test` and `exec` (which String.prototype.match/replace/split call too) go to RE2.
 */
export class LinearRegExp extends RegExp {
  readonly #compiled: Compiled;

  constructor(pattern: RegExp | string, flags?: string) {
    const source = typeof pattern === "string" ? pattern : pattern.source;
    const f = flags ?? (typeof pattern === "string" ? "" : pattern.flags);
    // Compile for RE2 first: a pattern it refuses never reaches V8's RegExp constructor.
    const compiled = compileLinear(source, f);
    // Without g and y: String.prototype.replace/matchAll would loop on lastIndex, which RE2's exec ignores.
    super(source, f.replace(/[^imsu]/g, ""));
    this.#compiled = compiled;
  }

  static override get [Symbol.species](): RegExpConstructor {
    return LinearRegExp as unknown as RegExpConstructor;
  }

  override exec(input: string): RegExpExecArray | null {
    const text = String(input);
    charge(1 + Math.ceil((text.length * this.#compiled.unitsPerChar) / 64));
    return this.#compiled.re.exec(text) as RegExpExecArray | null;
  }

  override test(input: string): boolean {
    return this.exec(input) !== null;
  }
}

/** `value` as a LinearRegExp when it is a RegExp (or already one); anything else unchanged. */
export function linear<T>(value: T): T | LinearRegExp {
  if (value instanceof LinearRegExp) return value;
  if (value instanceof RegExp) return new LinearRegExp(value);
  return value;
}
