/**
 * The JSONPath subset server-latest's watch dispatcher is used with: filter expressions over the changed
 * document, `$.[?(<expr>)]` (also `$[?(...)]`), where `<expr>` combines `@.a.b OP literal` comparisons
 * (`==`, `===`, `!=`, `!==`, `<`, `<=`, `>`, `>=`), bare `@.a` truthiness and `!@.a`, with `&&`, `||` and
 * parentheses. Literals: quoted strings, numbers, true, false, null. Anything else is refused with an error
 * that says what is supported, never silently ignored.
 */
import { commandError } from "./errors.js";
import type { AnyDoc } from "./store.js";

export type DocPredicate = (doc: AnyDoc) => boolean;

type Token = { kind: "path"; parts: string[] } | { kind: "lit"; value: unknown } | { kind: "op"; value: string } | { kind: "paren"; value: "(" | ")" } | { kind: "not" };

const OPS = ["===", "!==", "==", "!=", "<=", ">=", "&&", "||", "<", ">"];

function tokenize(expr: string, path: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (what: string) => commandError(`watch path ${JSON.stringify(path)}: ${what} at character ${i} (supported: $.[?(@.field == 'value' && ...)] filters)`);
  while (i < expr.length) {
    const c = expr[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "(" || c === ")") {
      tokens.push({ kind: "paren", value: c });
      i++;
      continue;
    }
    const op = OPS.find((o) => expr.startsWith(o, i));
    if (op) {
      tokens.push({ kind: "op", value: op });
      i += op.length;
      continue;
    }
    if (c === "!") {
      tokens.push({ kind: "not" });
      i++;
      continue;
    }
    if (c === "@") {
      const m = /^@((?:\.[A-Za-z_$][\w$]*|\[['"][^'"]+['"]\])*)/.exec(expr.slice(i));
      if (!m) throw fail("bad @ path");
      const parts = [...(m[1] ?? "").matchAll(/\.([A-Za-z_$][\w$]*)|\[['"]([^'"]+)['"]\]/g)].map((p) => (p[1] ?? p[2]) as string);
      tokens.push({ kind: "path", parts });
      i += m[0].length;
      continue;
    }
    if (c === "'" || c === '"') {
      const end = expr.indexOf(c, i + 1);
      if (end < 0) throw fail("unterminated string");
      tokens.push({ kind: "lit", value: expr.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    const m = /^(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(expr.slice(i));
    if (m) {
      tokens.push({ kind: "lit", value: JSON.parse(m[0]) });
      i += m[0].length;
      continue;
    }
    throw fail(`unexpected ${JSON.stringify(c)}`);
  }
  return tokens;
}

type Value = (doc: AnyDoc) => unknown;

function get(doc: AnyDoc, parts: string[]): unknown {
  let v: unknown = doc;
  for (const p of parts) v = v !== null && typeof v === "object" ? (v as AnyDoc)[p] : undefined;
  return v;
}

function compare(op: string, a: unknown, b: unknown): boolean {
  switch (op) {
    case "==":
      // eslint-disable-next-line eqeqeq
      return a == b;
    case "===":
      return a === b;
    case "!=":
      // eslint-disable-next-line eqeqeq
      return a != b;
    case "!==":
      return a !== b;
    case "<":
      return (a as number) < (b as number);
    case "<=":
      return (a as number) <= (b as number);
    case ">":
      return (a as number) > (b as number);
    default:
      return (a as number) >= (b as number);
  }
}

/** Compile one JSONPath filter into a predicate over the document. */
export function compileJsonPath(path: string): DocPredicate {
  const m = /^\$\.?\[\?\((.*)\)\]$/s.exec(path.trim());
  if (!m) {
    if (path.trim() === "$" || path.trim() === "$.*") return () => true;
    throw commandError(`watch path ${JSON.stringify(path)} is not supported by this server (supported: $.[?(@.field == 'value' && ...)] filters)`);
  }
  const tokens = tokenize(m[1] as string, path);
  let pos = 0;
  const peek = () => tokens[pos];
  const fail = (what: string) => commandError(`watch path ${JSON.stringify(path)}: ${what}`);

  const primary = (): Value => {
    const t = tokens[pos++];
    if (!t) throw fail("expression ends early");
    if (t.kind === "not") {
      const inner = primary();
      return (d) => !inner(d);
    }
    if (t.kind === "paren" && t.value === "(") {
      const inner = or();
      const close = tokens[pos++];
      if (!close || close.kind !== "paren" || close.value !== ")") throw fail("missing )");
      return inner;
    }
    if (t.kind === "path") return (d) => get(d, t.parts);
    if (t.kind === "lit") return () => t.value;
    throw fail(`unexpected ${t.kind === "op" ? t.value : t.kind}`);
  };
  const comparison = (): Value => {
    const left = primary();
    const t = peek();
    if (t && t.kind === "op" && t.value !== "&&" && t.value !== "||") {
      pos++;
      const right = primary();
      return (d) => compare(t.value, left(d), right(d));
    }
    return left;
  };
  const and = (): Value => {
    let left = comparison();
    for (let t = peek(); t && t.kind === "op" && t.value === "&&"; t = peek()) {
      pos++;
      const l = left;
      const r = comparison();
      left = (d) => Boolean(l(d)) && Boolean(r(d));
    }
    return left;
  };
  const or = (): Value => {
    let left = and();
    for (let t = peek(); t && t.kind === "op" && t.value === "||"; t = peek()) {
      pos++;
      const l = left;
      const r = and();
      left = (d) => Boolean(l(d)) || Boolean(r(d));
    }
    return left;
  };
  const expr = or();
  if (pos !== tokens.length) throw fail("unexpected text after the expression");
  return (doc) => Boolean(expr(doc));
}
