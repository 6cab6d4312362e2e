/**
 * Regular expressions from clients run on RE2 (`re2js`, a pure-JS port of Google's linear-time engine), never on
 * V8's backtracking engine: `(a+)+$` against a long string of `a` froze the process for minutes. A pattern RE2
 * cannot run in linear time (back-references, look-around) is refused by name. Every match is charged to the
 * request's budget (querylimits.ts) before it runs, in proportion to input length x program size (calibrated
 * on re2js: a test costs about 1-3 us plus 0.03 us per character, an exec with match positions ten times that;
 * a unit is about 0.25 us), so a match
 * on a huge string, or many matches on long ones, end that one request instead of stalling the server.
 */
import { RE2JS } from "re2js";
import { commandError } from "./errors.js";
import { charge, currentLimits } from "./querylimits.js";

interface Compiled {
  re: RE2JS;
  /** RE2 program size: its NFA visits at most every instruction per input character. */
  program: number;
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
  const compiled = { re, program: Math.max(1, re.programSize()) };
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

  /** Match positions are computed only for inputs that match (RE2's test is several times cheaper). */
  override exec(input: string): RegExpExecArray | null {
    const text = String(input);
    if (!this.test(text)) return null;
    charge(Math.ceil((text.length * this.#compiled.program) / 8));
    return this.#compiled.re.exec(text) as RegExpExecArray | null;
  }

  override test(input: string): boolean {
    const text = String(input);
    charge(4 + Math.ceil((text.length * this.#compiled.program) / 80));
    return this.#compiled.re.test(text);
  }
}

/** `value` as a LinearRegExp when it is a RegExp (or already one); anything else unchanged. */
export function linear<T>(value: T): T | LinearRegExp {
  if (value instanceof LinearRegExp) return value;
  if (value instanceof RegExp) return new LinearRegExp(value);
  return value;
}
