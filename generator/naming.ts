/**
 * Phase "name": one table that turns wire command strings (all lower case, no separators) into readable
 * identifiers. Command strings are segmented into dictionary words with a minimum-word-count split, so
 * `insertorupdateone` becomes `insertOrUpdateOne` and `getnoderedinstancelog` becomes `getNoderedInstanceLog`.
 * The dictionary follows the spelling of the official api classes: `Workitem` and `Nodered` are one word each.
 */

/** Dictionary for segmentation. Longer words win when they lead to fewer words in total. */
export const WORDS: readonly string[] = [
  "add", "agent", "aggregate", "by", "cancel", "clients", "close", "closed", "collection", "collections", "command",
  "count", "create", "custom", "customer", "delete", "distinct", "document", "drop", "dump", "ensure", "error",
  "event", "exchange", "file", "get", "housekeeping", "index", "indexes", "instance", "insert", "invoice", "invoke",
  "issue", "kube", "labels", "license", "list", "log", "many", "map", "message", "metrics", "next", "node",
  "nodered", "one", "openrpa", "or", "package", "ping", "plan", "pod", "pods", "pong", "pop", "push", "query",
  "queue", "rabbitmq", "reduce", "refresh", "register", "restart", "save", "select", "signin", "start", "stop",
  "stripe", "token", "type", "unwatch", "update", "user", "version", "watch", "workflow", "workitem", "workitems",
];

/** How a dictionary word is capitalised inside an identifier (default: first letter upper case). */
const CASED: Readonly<Record<string, string>> = { openrpa: "OpenRpa", rabbitmq: "Rabbitmq" };

/**
 * Member names the generated client class cannot use: they belong to the class itself, to Object, or to its runtime
 * subclass `OpenFlowClient` (runtime/client.ts). A command that would map to one
 * gets a `Command` suffix instead (`request` -> `requestCommand`).
 */
export const RESERVED_MEMBERS: ReadonlySet<string> = new Set([
  "constructor", "core", "prototype", "toString", "valueOf", "hasOwnProperty", "then",
  // OpenFlowClient members
  "state", "user", "jwt", "request", "onCommand", "on", "onTokenRefreshed", "onStateChange", "consumeQueue",
  "consumeExchange", "watchCollection", "close", "connect",
]);

/** JavaScript reserved words (an identifier used as a standalone binding cannot be one of these). */
export const RESERVED_WORDS: ReadonlySet<string> = new Set([
  "break", "case", "catch", "class", "const", "continue", "debugger", "default", "delete", "do", "else", "enum",
  "export", "extends", "false", "finally", "for", "function", "if", "import", "in", "instanceof", "new", "null",
  "return", "super", "switch", "this", "throw", "true", "try", "typeof", "var", "void", "while", "with", "yield",
  "let", "static", "implements", "interface", "package", "private", "protected", "public", "await", "arguments",
  "eval", "any", "boolean", "never", "number", "object", "string", "symbol", "undefined", "unknown",
]);

/**
 * Splits a lower-case command string into words: dictionary words where possible, unknown runs kept together.
 * Minimises (unknown characters, words) so the result is unique and stable.
 */
export function segment(command: string): string[] {
  const n = command.length;
  type Piece = { text: string; known: boolean };
  // best[i] = cheapest split of command.slice(0, i): unknown characters cost far more than words, so dictionary
  // words win wherever they fit; among splits with equally many unknown characters, fewer words win.
  const best: ({ cost: number; pieces: Piece[] } | undefined)[] = new Array(n + 1);
  best[0] = { cost: 0, pieces: [] };
  const dictionary = new Set(WORDS);
  for (let i = 0; i < n; i++) {
    const from = best[i];
    if (!from) continue;
    for (let j = i + 1; j <= n; j++) {
      const piece = command.slice(i, j);
      if (dictionary.has(piece)) relax(j, { cost: from.cost + 1, pieces: [...from.pieces, { text: piece, known: true }] });
    }
    const last = from.pieces[from.pieces.length - 1];
    const ch = command.slice(i, i + 1);
    const pieces = last && !last.known ? [...from.pieces.slice(0, -1), { text: last.text + ch, known: false }] : [...from.pieces, { text: ch, known: false }];
    relax(i + 1, { cost: from.cost + 100 + (last && !last.known ? 0 : 1), pieces });
  }
  // A very short word next to an unknown run is more likely part of it ("constructor" is not "construct" + "or").
  const merged: Piece[] = [];
  const pieces = best[n]?.pieces ?? [{ text: command, known: false }];
  pieces.forEach((piece, i) => {
    const prev = merged[merged.length - 1];
    const next = pieces[i + 1];
    const short = piece.known && piece.text.length <= 2;
    if (short && ((prev && !prev.known) || (next && !next.known))) piece = { text: piece.text, known: false };
    if (prev && !prev.known && !piece.known) merged[merged.length - 1] = { text: prev.text + piece.text, known: false };
    else merged.push(piece);
  });
  return merged.map((p) => p.text);

  function relax(at: number, candidate: { cost: number; pieces: Piece[] }): void {
    const current = best[at];
    if (!current || candidate.cost < current.cost) best[at] = candidate;
  }
}

function capitalise(word: string): string {
  return CASED[word] ?? word.charAt(0).toUpperCase() + word.slice(1);
}

/** `insertorupdateone` -> `insertOrUpdateOne`. Non-alphanumeric characters are dropped. */
export function camelCase(command: string): string {
  const clean = command.toLowerCase().replace(/[^a-z0-9]/g, "");
  const words = segment(clean);
  const [first = "", ...rest] = words;
  let name = first + rest.map(capitalise).join("");
  if (/^[0-9]/.test(name)) name = `_${name}`;
  return name;
}

/** `insertorupdateone` -> `InsertOrUpdateOne`. */
export function pascalCase(command: string): string {
  const camel = camelCase(command);
  return camel.charAt(0).toUpperCase() + camel.slice(1);
}

/** Method name on the generated client for a command (reserved member names get a `Command` suffix). */
export function methodName(command: string): string {
  const name = camelCase(command);
  return RESERVED_MEMBERS.has(name) || RESERVED_WORDS.has(name) ? `${name}Command` : name;
}

/** Handler registration name for a command the server starts: `queuemessage` -> `onQueueMessage`. */
export function handlerName(command: string): string {
  const name = `on${pascalCase(command)}`;
  return RESERVED_MEMBERS.has(name) ? `${name}Command` : name;
}

/** A valid identifier usable as an ESM export name for a validator: `query`, `request` -> `query_request`. */
export function validatorExportName(command: string, kind: string): string {
  return `${command.replace(/[^A-Za-z0-9_]/g, "_")}_${kind}`;
}

/** Default payload type name when the schema has no `title`: `QueryRequest`. */
export function defaultTypeName(command: string, kind: "request" | "reply"): string {
  return `${pascalCase(command)}${kind === "request" ? "Request" : "Reply"}`;
}

/** Global TypeScript/JavaScript type names a generated type must not shadow. */
export const GLOBAL_TYPE_NAMES: ReadonlySet<string> = new Set([
  "Array", "ArrayBuffer", "Boolean", "Date", "Error", "Function", "Iterable", "JSON", "Map", "Math", "Number",
  "Object", "Partial", "Pick", "Promise", "Readonly", "Record", "RegExp", "Required", "Set", "String", "Symbol",
  "WeakMap", "WeakSet", "Event", "File", "Blob", "Request", "Response", "Headers", "URL", "Node", "Element",
  "Document", "Window", "Location", "Storage", "WebSocket", "Worker",
]);

/**
 * Turns a schema title into a TypeScript type name: PascalCase words; names of globals (`Date`, `Error`, ...) get an
 * `OpenFlow` prefix so generated types never shadow them.
 */
export function typeNameFromTitle(title: string): string {
  const words = title.split(/[^A-Za-z0-9]+/).filter(Boolean);
  let name = words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join("");
  if (name === "" || /^[0-9]/.test(name)) name = `T${name}`;
  if (GLOBAL_TYPE_NAMES.has(name)) name = `OpenFlow${name}`;
  return name;
}
