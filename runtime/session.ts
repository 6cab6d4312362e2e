/**
 * Session: credentials, the current jwt and user, and the server's chunk size. Sign-in payloads are built
 * here, and signin replies and `refreshtoken` pushes are applied here, each as one atomic update.
 */
import { OpenFlowError } from "./errors.js";
import { DEFAULT_CHUNK_SIZE } from "./framing.js";

/** How to sign in: a username and password, or a jwt. */
export type Credentials = { username: string; password: string } | { jwt: string };

export interface SigninExtras {
  /** Reported to the server as `clientagent`. Default "openflow-spec". */
  clientagent?: string;
  /** Reported to the server as `clientversion`. Default: none (not sent). */
  clientversion?: string;
  /** Ask for a long-lived token (https://github.com/openflow-spec/openflow-spec/blob/main/docs/protocol.md#q11). Default false. */
  longtoken?: boolean;
  /** Act as another user (`_id`). Default: none (yourself). */
  impersonate?: string;
}

/** The signed-in state, replaced as a whole (never field by field) so readers never see a mix. */
export interface SessionState {
  /** The current token (from signin, or the latest `refreshtoken`). */
  jwt: string;
  /** The signed-in user as the server sent it (a TokenUser). */
  user: unknown;
}

/** Chunk sizes outside this range are ignored as invalid (Q5); openrpa uses the same lower bound. */
const MIN_CHUNK = 100;
const MAX_CHUNK = 16 * 1024 * 1024;

/** The chunk size a signin reply announces, or `current` when missing or invalid (https://github.com/openflow-spec/openflow-spec/blob/main/docs/protocol.md#q5). */
export function chunkSizeFrom(value: unknown, current: number): number {
  return typeof value === "number" && Number.isInteger(value) && value >= MIN_CHUNK && value <= MAX_CHUNK ? value : current;
}

export function checkCredentials(value: unknown): Credentials {
  const c = value as Partial<{ username: unknown; password: unknown; jwt: unknown }> | undefined;
  if (c && typeof c.jwt === "string" && c.jwt !== "") return { jwt: c.jwt };
  if (c && typeof c.username === "string" && c.username !== "" && typeof c.password === "string") {
    return { username: c.username, password: c.password };
  }
  throw new OpenFlowError("usage", "credentials must be { username, password } or { jwt } (non-empty strings)");
}

export class Session {
  private current: SessionState | undefined;
  /** Chunk size for outgoing data. */
  chunkSize = DEFAULT_CHUNK_SIZE;

  constructor(
    private readonly credentials: Credentials,
    private readonly extras: SigninExtras = {},
  ) {}

  get state(): SessionState | undefined {
    return this.current;
  }

  /** True when username/password are available as a fallback for an expired jwt. */
  get hasPassword(): boolean {
    return "password" in this.credentials;
  }

  /**
   * The signin payload. After a first sign-in the newest jwt is used (it may have been refreshed); with
   * `usePassword` the original username/password are used instead (fallback when that jwt was refused).
   */
  signinPayload(usePassword = false): Record<string, unknown> {
    const payload: Record<string, unknown> = {};
    if (!usePassword && this.current) payload.jwt = this.current.jwt;
    else if ("jwt" in this.credentials) payload.jwt = this.credentials.jwt;
    else {
      payload.username = this.credentials.username;
      payload.password = this.credentials.password;
    }
    payload.clientagent = this.extras.clientagent ?? "openflow-spec";
    if (this.extras.clientversion !== undefined) payload.clientversion = this.extras.clientversion;
    if (this.extras.longtoken) payload.longtoken = true;
    if (this.extras.impersonate !== undefined) payload.impersonate = this.extras.impersonate;
    return payload;
  }

  /** Apply a successful signin reply; throws "auth" when it carries no jwt. */
  applySignin(reply: unknown): SessionState {
    const r = (reply ?? {}) as Record<string, unknown>;
    if (typeof r.jwt !== "string" || r.jwt === "") {
      throw new OpenFlowError("auth", "signin reply carries no jwt", { command: "signin" });
    }
    this.current = { jwt: r.jwt, user: r.user ?? null };
    this.chunkSize = chunkSizeFrom(r.websocket_package_size, this.chunkSize);
    return this.current;
  }

  /** Apply a `refreshtoken` push; returns the new state, or undefined when the payload has no jwt. */
  applyRefresh(payload: unknown): SessionState | undefined {
    const p = (payload ?? {}) as Record<string, unknown>;
    if (typeof p.jwt !== "string" || p.jwt === "") return undefined;
    this.current = { jwt: p.jwt, user: p.user ?? this.current?.user ?? null };
    return this.current;
  }
}
