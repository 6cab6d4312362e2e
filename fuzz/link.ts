/**
 * A raw link to a server for the fuzzer: the runtime client signs in (through the one connection layer of the
 * command line), then the fuzzer takes the socket over and speaks frames itself, so it can send what no client
 * would (broken chunking, data that is not JSON, unknown fields) and see every frame the server sends back.
 *
 * `SocketTap` is a WebSocket constructor (over `ws`) to hand to the client as `options.WebSocket`: until
 * `takeOver()` it passes everything between the client and the socket; afterwards incoming frames go to the
 * fuzzer only (the client never sees them, so it neither answers pushes nor reports stray replies), and the
 * client must send nothing (heartbeat off).
 */
import WebSocket from "ws";

/** The WebSocket surface the runtime uses (runtime/transport.ts `SocketLike`, restated: not a public export). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code?: number; reason?: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

/** A signed-in connection the fuzzer owns. */
export interface Link {
  /** Who signed in (the user name, never a secret). */
  readonly label: string;
  /** `websocket_package_size` the server announced at sign-in (25000 when it announced none). */
  readonly packageSize: number;
  /** The signed-in user as the signin reply gave it (`_id`, `roles`, ...). */
  readonly user: Record<string, unknown>;
  /** Send one websocket text message as is. */
  send(text: string): void;
  /** Every text message received after the take-over; returns a function that stops listening. */
  onText(listener: (text: string) => void): () => void;
  /** True once the socket closed (either side). */
  readonly closed: boolean;
  /** Resolves when the socket closes, with the close code. */
  readonly whenClosed: Promise<{ code: number; reason: string }>;
  close(): void;
}

/** Opens a signed-in link as user `index` (0 = the first `--user`, 1 = the second). */
export type Connector = (index: number) => Promise<Link>;

const DEFAULT_PACKAGE_SIZE = 25_000;

/** The constructor the client gets, and the link once signed in. */
export class SocketTap {
  private inner: WebSocket | undefined;
  private facade: SocketLike | undefined;
  private takenOver = false;
  private announced: number | undefined;
  private readonly listeners = new Set<(text: string) => void>();
  private closeInfo: { code: number; reason: string } | undefined;
  private resolveClosed: ((info: { code: number; reason: string }) => void) | undefined;
  private readonly closedPromise = new Promise<{ code: number; reason: string }>((resolve) => (this.resolveClosed = resolve));

  /** The WebSocket constructor for `ClientOptions.WebSocket`. One tap serves one connection. */
  readonly WebSocket: new (url: string, protocols?: string | string[], options?: Record<string, unknown>) => SocketLike;

  constructor() {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const tap = this;
    this.WebSocket = function TapSocket(url: string, protocols?: string | string[], options?: Record<string, unknown>): SocketLike {
      return tap.open(url, protocols, options);
    } as unknown as SocketTap["WebSocket"];
  }

  private open(url: string, protocols?: string | string[], options?: Record<string, unknown>): SocketLike {
    const ws = new WebSocket(url, protocols ?? [], options ?? {});
    this.inner = ws;
    const facade: SocketLike = {
      get readyState() {
        return ws.readyState;
      },
      send: (data: string) => {
        if (!this.takenOver) ws.send(data);
      },
      close: (code?: number, reason?: string) => ws.close(code, reason),
      onopen: null,
      onmessage: null,
      onclose: null,
      onerror: null,
    };
    this.facade = facade;
    ws.on("open", () => facade.onopen?.({}));
    ws.on("error", (err) => facade.onerror?.(err));
    ws.on("close", (code, reason) => {
      this.closeInfo = { code, reason: reason.toString() };
      this.resolveClosed?.(this.closeInfo);
      facade.onclose?.({ code, reason: reason.toString() });
    });
    ws.on("message", (data, isBinary) => {
      const text = isBinary ? "" : data.toString();
      if (!this.takenOver) {
        this.notePackageSize(text);
        facade.onmessage?.({ data: text });
        return;
      }
      for (const listener of [...this.listeners]) listener(text);
    });
    return facade;
  }

  /** The signin reply announces the package size (../docs/protocol.md#q5); remember it. */
  private notePackageSize(text: string): void {
    if (!text.includes("websocket_package_size")) return;
    try {
      const frame = JSON.parse(text) as { command?: unknown; data?: unknown };
      if (String(frame.command).toLowerCase() !== "signin" || typeof frame.data !== "string") return;
      const size = (JSON.parse(frame.data) as { websocket_package_size?: unknown }).websocket_package_size;
      if (typeof size === "number" && Number.isInteger(size) && size >= 100) this.announced = size;
    } catch {
      // not a signin reply we can read: the default size stands
    }
  }

  /** After the client signed in: the socket belongs to the fuzzer from now on. */
  takeOver(label: string, user: unknown, close: () => void): Link {
    const ws = this.inner;
    if (!ws || !this.facade) throw new Error("SocketTap.takeOver before the client opened its socket");
    this.takenOver = true;
    const tap = this;
    return {
      label,
      packageSize: this.announced ?? DEFAULT_PACKAGE_SIZE,
      user: user && typeof user === "object" ? (user as Record<string, unknown>) : {},
      send: (text) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(text);
      },
      onText: (listener) => {
        this.listeners.add(listener);
        return () => this.listeners.delete(listener);
      },
      get closed() {
        return tap.closeInfo !== undefined || ws.readyState === WebSocket.CLOSED || ws.readyState === WebSocket.CLOSING;
      },
      whenClosed: this.closedPromise,
      close,
    };
  }
}

/**
 * Connections kept open across sequences: a sequence gets the user's open link, or a new one when the last was
 * closed (by the server or by a step). Signing in is the slowest part of a short sequence (password hashing).
 */
export function pooled(connect: Connector): { connect: Connector; close(): void } {
  const links: (Link | undefined)[] = [];
  return {
    connect: async (index) => {
      const open = links[index];
      if (open && !open.closed) return open;
      const link = await connect(index);
      links[index] = link;
      return link;
    },
    close: () => {
      for (const link of links) link?.close();
    },
  };
}
