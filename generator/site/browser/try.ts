/**
 * The docs site's "try it" page (bundled with this repository's browser runtime into assets/try.js): connect to a
 * server, pick a command the client sends, edit its payload (checked against the request schema as you type, its
 * fields offered from the schema), send it with `requestUntyped`, and see the reply and every frame. The frames
 * are read from a WebSocket subclass handed to the client, so what is shown is what went over the wire.
 */
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
  const payload = $<HTMLTextAreaElement>("payload");
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
  const check = (): boolean => {
    let value: unknown;
    try {
      value = JSON.parse(payload.value || "{}");
    } catch (err) {
      validation.className = "bad";
      validation.textContent = `not JSON: ${(err as Error).message}`;
      return false;
    }
    const issues = validatePayload(select.value, "request", value, { closed: true });
    validation.className = issues.length === 0 ? "good" : "bad";
    validation.textContent = issues.length === 0 ? `valid ${select.value} request` : issues.map((i) => i.message).join("; ");
    return true;
  };
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
    payload.value = JSON.stringify(required, null, 2);
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
      value = JSON.parse(payload.value || "{}") as Record<string, unknown>;
    } catch {
      return;
    }
    if (!(field.name in value)) value[field.name] = placeholder(field.type);
    payload.value = JSON.stringify(value, null, 2);
    check();
  });
  payload.addEventListener("input", check);
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
    client.requestUntyped(select.value, JSON.parse(payload.value || "{}")).then(
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
