/**
 * The docs site's "try it" page (bundled with this repository's browser runtime into assets/try.js): connect to a
 * server, pick a command the client sends, edit its payload in a CodeMirror JSON editor (checked against the
 * request schema as you type, with the validators the client uses, shown as lint marks; the command's fields are
 * completed from its schema), send it with `requestUntyped`, and see the reply and every frame. The frames are read
 * from a WebSocket subclass handed to the client, so what is shown is what went over the wire.
 */
import { autocompletion, type Completion, type CompletionContext, type CompletionResult } from "@codemirror/autocomplete";
import { json } from "@codemirror/lang-json";
import { linter, lintGutter, type Diagnostic } from "@codemirror/lint";
import { basicSetup, EditorView } from "codemirror";
import { connect, OpenFlowError, type OpenFlowClient } from "../../../runtime/index.js";
import { validatePayload, validators } from "../../../runtime/validate.js";

interface Field {
  name: string;
  type: string;
  required: boolean;
  description: string;
}
interface Command {
  name: string;
  purpose: string;
  fields: Field[];
}

declare global {
  interface Window {
    OPENFLOW_COMMANDS?: Command[];
  }
}

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`try.html has no #${id}`);
  return el as T;
};

/** A value of the field's type to start from. */
function placeholder(type: string): unknown {
  const first = type.split("|")[0]?.trim() ?? "";
  if (first.startsWith("integer") || first.startsWith("number")) return 0;
  if (first.startsWith("boolean")) return false;
  if (first.startsWith("object")) return {};
  if (first.startsWith("array") || first.endsWith("[]")) return [];
  if (first.startsWith("null")) return null;
  return "";
}

function start(): void {
  const commands = window.OPENFLOW_COMMANDS ?? [];
  const url = $<HTMLInputElement>("url");
  const status = $("status");
  const select = $<HTMLSelectElement>("command");
  const addField = $<HTMLSelectElement>("add-field");
  const host = $("payload");
  const validation = $("validation");
  const send = $<HTMLButtonElement>("send");
  const reply = $("reply");
  const frames = $("frames");
  let client: OpenFlowClient | undefined;

  const params = new URLSearchParams(location.search);
  if (params.get("url")) url.value = params.get("url") ?? url.value;

  const log = (direction: "in" | "out", text: string): void => {
    const item = document.createElement("li");
    item.className = direction;
    item.textContent = text;
    frames.append(item);
  };
  /** The browser's WebSocket, with every frame sent and received shown on the page. */
  class LoggingWebSocket extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols);
      this.addEventListener("message", (event: MessageEvent) => log("in", String(event.data)));
    }
    override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
      log("out", typeof data === "string" ? data : "(binary)");
      super.send(data);
    }
  }

  const current = (): Command | undefined => commands.find((c) => c.name === select.value);
  let editor: EditorView | undefined;
  const text = (): string => editor?.state.doc.toString() ?? "";
  const setText = (value: string): void => {
    editor?.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: value } });
  };
  /** Schema issues of the current text (also shown below the editor); undefined when it is not JSON. */
  const issuesOf = (source: string): { pointer: string; message: string }[] | { parse: string } => {
    let value: unknown;
    try {
      value = JSON.parse(source || "{}");
    } catch (err) {
      return { parse: (err as Error).message };
    }
    return validatePayload(select.value, "request", value, { closed: true });
  };
  const check = (): boolean => {
    const issues = issuesOf(text());
    if ("parse" in issues) {
      validation.className = "bad";
      validation.textContent = `not JSON: ${issues.parse}`;
      return false;
    }
    validation.className = issues.length === 0 ? "good" : "bad";
    validation.textContent = issues.length === 0 ? `valid ${select.value} request` : issues.map((i) => i.message).join("; ");
    return true;
  };
  /** Lint marks: at the field a schema issue points at (its first top-level segment), else over the whole text. */
  const lint = (view: EditorView): Diagnostic[] => {
    const source = view.state.doc.toString();
    const issues = issuesOf(source);
    if ("parse" in issues) return [{ from: 0, to: source.length, severity: "error", message: `not JSON: ${issues.parse}` }];
    return issues.map((issue) => {
      const field = issue.pointer.split("/")[1];
      const at = field === undefined ? -1 : source.indexOf(JSON.stringify(field.replace(/~1/g, "/").replace(/~0/g, "~")));
      const from = at < 0 ? 0 : at;
      const to = at < 0 ? source.length : at + JSON.stringify(field).length;
      return { from, to, severity: "error" as const, message: issue.message };
    });
  };
  /** Completes a top-level field name of the command's request, with a value of its type. */
  const complete = (context: CompletionContext): CompletionResult | null => {
    const before = context.state.doc.sliceString(0, context.pos);
    const word = /(?:^|[{,]\s*)("?)([\w$.-]*)$/.exec(before);
    if (!word) return null;
    // Top level only: one more `{` than `}` before the cursor, outside strings.
    const depth = [...before.replace(/"(?:[^"\\]|\\.)*"/g, '""')].reduce((d, ch) => d + (ch === "{" ? 1 : ch === "}" ? -1 : 0), 0);
    if (depth !== 1) return null;
    const present = new Set(Object.keys((() => { try { return JSON.parse(context.state.doc.toString()) as Record<string, unknown>; } catch { return {}; } })()));
    const options: Completion[] = (current()?.fields ?? [])
      .filter((f) => !present.has(f.name))
      .map((f) => ({ label: f.name, detail: `${f.type}${f.required ? ", required" : ""}`, info: f.description, type: "property", apply: `"${f.name}": ${JSON.stringify(placeholder(f.type))}` }));
    return { from: context.pos - (word[2]?.length ?? 0) - (word[1]?.length ?? 0), options, validFor: /^"?[\w$.-]*$/ };
  };
  editor = new EditorView({
    parent: host,
    doc: "{}",
    extensions: [
      basicSetup,
      json(),
      autocompletion({ override: [complete] }),
      linter(lint, { delay: 200 }),
      lintGutter(),
      EditorView.updateListener.of((update) => {
        if (update.docChanged) check();
      }),
      EditorView.contentAttributes.of({ "aria-label": "Payload (JSON)" }),
    ],
  });
  const fillFields = (): void => {
    const command = current();
    $("purpose").textContent = command?.purpose ?? "";
    addField.replaceChildren(new Option("(the request's fields)", ""));
    for (const field of command?.fields ?? []) {
      const option = new Option(`${field.name}${field.required ? " (required)" : ""}: ${field.type}`, field.name);
      option.title = field.description;
      addField.append(option);
    }
    const required = Object.fromEntries((command?.fields ?? []).filter((f) => f.required).map((f) => [f.name, placeholder(f.type)]));
    setText(JSON.stringify(required, null, 2));
    check();
  };
  for (const command of commands) select.append(new Option(command.name, command.name));
  select.value = commands.some((c) => c.name === "query") ? "query" : (commands[0]?.name ?? "");
  select.addEventListener("change", fillFields);
  addField.addEventListener("change", () => {
    const field = current()?.fields.find((f) => f.name === addField.value);
    addField.value = "";
    if (!field) return;
    let value: Record<string, unknown> = {};
    try {
      value = JSON.parse(text() || "{}") as Record<string, unknown>;
    } catch {
      return;
    }
    if (!(field.name in value)) value[field.name] = placeholder(field.type);
    setText(JSON.stringify(value, null, 2));
    check();
  });
  fillFields();

  $<HTMLFormElement>("connect-form").addEventListener("submit", (event) => {
    event.preventDefault();
    client?.close();
    client = undefined;
    send.disabled = true;
    status.textContent = "connecting…";
    frames.replaceChildren();
    connect(url.value, {
      username: $<HTMLInputElement>("username").value,
      password: $<HTMLInputElement>("password").value,
      WebSocket: LoggingWebSocket,
      validators,
      reconnect: false,
      logLevel: "silent",
    }).then(
      (connected) => {
        client = connected;
        const user = connected.user as { username?: string } | undefined;
        status.textContent = `signed in as ${user?.username ?? "?"}`;
        send.disabled = false;
      },
      (err: unknown) => {
        status.textContent = `cannot connect: ${err instanceof Error ? err.message : String(err)}`;
      },
    );
  });

  $<HTMLFormElement>("send-form").addEventListener("submit", (event) => {
    event.preventDefault();
    if (!client || !check()) return;
    reply.textContent = "…";
    client.requestUntyped(select.value, JSON.parse(text() || "{}")).then(
      (answer) => {
        reply.textContent = JSON.stringify(answer, null, 2);
      },
      (err: unknown) => {
        reply.textContent = err instanceof OpenFlowError ? `${err.code}: ${err.message}` : String(err);
      },
    );
  });
}

start();
