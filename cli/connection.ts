/**
 * The one connection layer of every verb that talks to a server (`call`, `shell`, `probe`, `fuzz`, `replay`,
 * `robot`): the sign-in options and their environment variables, the exit codes, and opening a signed-in
 * client with a message that names the cause and the fix.
 *
 * Exit codes, the same for every such verb:
 * - 0 ok;
 * - 1 what was checked is wrong, or the server answered with an error;
 * - 2 the verb could not run: usage, connection or sign-in.
 *
 * Secrets (passwords, tokens) are never echoed: messages name the user, never the password or the jwt.
 *
 * Besides sign-in, the network options (`networkOptions`: `--ca`, `--insecure`, `--connect-timeout`) and an
 * injectable host-name resolver (`Resolver`: tests answer names without a real DNS lookup) reach the client
 * through `networkExtras`.
 */
import { readFileSync } from "node:fs";
import { lookup as dnsLookup } from "node:dns/promises";
// The client's public entry only: the tools package imports it as `openflow-spec` (packages/build.ts).
import { connect, OpenFlowError, silentLogger, type ClientOptions, type Credentials, type OpenFlowClient, type TlsOptions } from "../runtime/index.js";
import { cannotRead } from "../validator/file-errors.js";
import { integerOption, type OptionSpec, type OptionValues } from "./command.js";
import { UsageError } from "./usage.js";

/** Exit codes shared by every verb that talks to a server. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_CANNOT_RUN = 2;

/** The environment variables the connection layer reads (documented in docs/cli.md). */
export const ENV_USER = "OPENFLOW_USER";
export const ENV_PASSWORD = "OPENFLOW_PASSWORD";
export const ENV_JWT = "OPENFLOW_JWT";

/** The sign-in options every such verb declares (spread into its option table). */
export const connectionOptions: Record<string, OptionSpec> = {
  user: {
    type: "string",
    multiple: true,
    valueName: "NAME:PASSWORD",
    description: `sign in as NAME (the password follows the first ':'); repeatable where a verb needs two users. Default: ${ENV_USER}/${ENV_PASSWORD}`,
  },
  jwt: { type: "string", valueName: "TOKEN", description: `sign in with a token instead of a password. Default: ${ENV_JWT}` },
};

export type Env = Readonly<Record<string, string | undefined>>;

/** A user the verb signs in as, with a label for messages that never contains the secret. */
export interface SignIn {
  credentials: Credentials;
  /** `alice`, or `jwt` for a token: safe to print. */
  label: string;
}

/** One `NAME:PASSWORD` value; the password may contain ':'. */
export function parseUserOption(value: string): SignIn {
  const colon = value.indexOf(":");
  if (colon <= 0) throw new UsageError(`--user needs NAME:PASSWORD (a name, a colon, the password), got ${colon === 0 ? "no name" : "no colon"}`);
  const username = value.slice(0, colon);
  return { credentials: { username, password: value.slice(colon + 1) }, label: username };
}

/**
 * The sign-ins from `--user` (each) and `--jwt`, falling back to `OPENFLOW_USER`/`OPENFLOW_PASSWORD` and
 * `OPENFLOW_JWT`. Options win over the environment. `max` bounds how many users the verb takes.
 */
export function signInsFrom(values: OptionValues, env: Env = process.env, max = 1): SignIn[] {
  const users = (values["user"] as string[] | undefined) ?? [];
  const jwt = values["jwt"] as string | undefined;
  if (jwt === "") throw new UsageError("--jwt needs a token");
  const out: SignIn[] = users.map(parseUserOption);
  if (jwt !== undefined) out.push({ credentials: { jwt }, label: "jwt" });
  if (out.length === 0) {
    const name = env[ENV_USER];
    const password = env[ENV_PASSWORD];
    const token = env[ENV_JWT];
    if (name) {
      if (password === undefined) throw new UsageError(`${ENV_USER} is set but ${ENV_PASSWORD} is not`);
      out.push({ credentials: { username: name, password }, label: name });
    } else if (token) {
      out.push({ credentials: { jwt: token }, label: "jwt" });
    }
  }
  if (out.length > max) throw new UsageError(max === 1 ? "takes one sign-in: one --user or --jwt" : `takes at most ${max} sign-ins (--user/--jwt), got ${out.length}`);
  return out;
}

/** Like `signInsFrom`, but a verb that needs a sign-in gets a usage error naming every way to give one. */
export function requireSignIns(values: OptionValues, env: Env = process.env, max = 1): SignIn[] {
  const out = signInsFrom(values, env, max);
  if (out.length === 0) throw new UsageError(`needs a sign-in: --user NAME:PASSWORD, --jwt TOKEN, or ${ENV_USER}/${ENV_PASSWORD} or ${ENV_JWT} in the environment`);
  return out;
}

/** A URL the runtime can connect to; anything else is a usage error saying what is expected. */
export function checkServerUrl(text: string | undefined): string {
  if (text === undefined || text === "") throw new UsageError("needs the server's websocket URL, e.g. ws://localhost:3000/ws/v1");
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`not a URL: ${JSON.stringify(text)} (expected ws://host:port/path or wss://...)`);
  }
  if (url.protocol === "http:" || url.protocol === "https:") {
    throw new UsageError(`${text} is an HTTP URL; the protocol runs over a websocket: use ${url.protocol === "https:" ? "wss" : "ws"}://${url.host}${url.pathname}`);
  }
  if (url.protocol !== "ws:" && url.protocol !== "wss:") throw new UsageError(`unsupported scheme ${url.protocol} in ${text} (expected ws:// or wss://)`);
  return url.toString();
}

/** Why a connection or sign-in failed, as one line that names the cause and, where known, the fix. */
export function describeConnectError(err: unknown, url: string, who: string): string {
  if (err instanceof OpenFlowError) {
    if (err.code === "auth") return `sign-in as ${who} refused by ${url}: ${err.serverMessage ?? err.message} (check the user name and password, or the token's expiry)`;
    if (err.code === "timeout") return `no answer from ${url} within the connect timeout: ${err.message} (is it the websocket path, e.g. /ws/v1? a proxy that does not pass websockets?)`;
    return `could not connect to ${url}: ${err.message}${fixFor(err.message)}`;
  }
  return `could not connect to ${url}: ${err instanceof Error ? err.message : String(err)}`;
}

/** The fix for a failed open that the runtime's text names but does not solve (TLS trust is a CLI option). */
function fixFor(message: string): string {
  if (/SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|CERT_UNTRUSTED/.test(message)) {
    return " (trust the server's certificate or its CA with --ca FILE; --insecure skips the check, for tests only)";
  }
  if (/ALTNAME|Hostname\/IP does not match/.test(message)) return " (the certificate is for another name: connect with the name it was issued for)";
  if (/CERT_HAS_EXPIRED/.test(message)) return " (the server's certificate has expired: renew it)";
  if (/HTTP 404/.test(message)) return "; `openflow-spec probe` tries the other paths";
  return "";
}

/** Thrown by `openConnection`: the verb exits 2 with this message. */
export class ConnectionFailed extends Error {
  override name = "ConnectionFailed";
  readonly exitCode = EXIT_CANNOT_RUN;
}

/**
 * Opens a signed-in client for a verb: no reconnect (a verb reports, it does not wait for the server to come
 * back), requests fail at once while disconnected, nothing logged. `extra` adds or overrides client options
 * (timeouts, a WebSocket wrapper that shows frames, validation).
 */
export async function openConnection(url: string, signIn: SignIn, extra: Partial<ClientOptions> = {}): Promise<OpenFlowClient> {
  try {
    return await connect(url, {
      credentials: signIn.credentials,
      reconnect: false,
      offline: { mode: "fail" },
      logger: silentLogger,
      signin: { clientagent: "openflow-spec-cli" },
      ...extra,
    });
  } catch (err) {
    throw new ConnectionFailed(describeConnectError(err, url, signIn.label), { cause: err });
  }
}

/**
 * Turns a host name into an address, like `dns.lookup`. Injected by tests (no real DNS lookup) and by anything
 * that wants to pin a name to an address; a failure should carry Node's code (`ENOTFOUND`) so messages name it.
 */
export type Resolver = (hostname: string) => Promise<{ address: string; family: 4 | 6 }>;

/** The system's resolver (`dns.lookup`: hosts file, then DNS). */
export const systemResolver: Resolver = async (hostname) => {
  const found = await dnsLookup(hostname);
  return { address: found.address, family: found.family === 6 ? 6 : 4 };
};

/** A `net`-style `lookup` function (what `ws`, `http` and `net.connect` take) that asks `resolver`. */
export function lookupVia(resolver: Resolver): (hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => void {
  return (hostname, options, callback) => {
    resolver(hostname).then(
      ({ address, family }) => (options?.all ? callback(null, [{ address, family }]) : callback(null, address, family)),
      (err: unknown) => callback(err),
    );
  };
}

/** Network options every verb that talks to a server may spread into its table (besides `connectionOptions`). */
export const networkOptions: Record<string, OptionSpec> = {
  ca: { type: "string", valueName: "FILE", description: "trust this PEM certificate (the server's own, or its CA) for wss:// besides the system's" },
  insecure: { type: "boolean", description: "accept any TLS certificate (self-signed, wrong name): anyone on the path can read the traffic; tests only" },
  "connect-timeout": { type: "string", valueName: "S", description: "give up opening the connection after S seconds (default 10)" },
};

/** What the network options and an injected resolver mean for a client. */
export interface NetworkSettings {
  tls: TlsOptions | undefined;
  connectTimeoutMs: number;
  resolver: Resolver | undefined;
}

/** Reads `networkOptions` (a usage error for a bad value or an unreadable `--ca`). */
export function networkSettingsFrom(values: OptionValues, resolver?: Resolver): NetworkSettings {
  const caFile = values["ca"] as string | undefined;
  const insecure = values["insecure"] === true;
  if (caFile !== undefined && insecure) throw new UsageError("--insecure and --ca contradict each other: --ca verifies against that certificate, --insecure verifies nothing");
  if (caFile === "") throw new UsageError("--ca needs a PEM file");
  let tls: TlsOptions | undefined;
  if (caFile !== undefined) {
    try {
      tls = { ca: readFileSync(caFile, "utf8") };
    } catch (err) {
      throw new UsageError(cannotRead(`--ca ${caFile}`, err));
    }
  } else if (insecure) tls = { dangerouslyDisableTlsVerification: true };
  const seconds = integerOption(values, "connect-timeout", 1, 3600) ?? 10;
  return { tls, connectTimeoutMs: seconds * 1000, resolver };
}

/** Client options for `openConnection` from the network settings (TLS trust, timeout, the resolver). */
export function networkExtras(settings: NetworkSettings): Partial<ClientOptions> {
  return {
    connectTimeoutMs: settings.connectTimeoutMs,
    ...(settings.tls ? { tls: settings.tls } : {}),
    ...(settings.resolver ? { wsOptions: { lookup: lookupVia(settings.resolver) } } : {}),
  };
}
