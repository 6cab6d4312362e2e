/** `signin` (../../docs/protocol.md#signin): password, token, validate_only, longtoken, impersonate. */
import { Rights, aclAllows } from "../acl.js";
import { USERS, type TokenUser } from "../auth.js";
import { currentUser } from "../authz.js";
import type { SessionHandler } from "../context.js";
import { authError, unsupportedError } from "../errors.js";
import type { AnyDoc } from "../store.js";

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

export const handleSignin: SessionHandler = async (ctx) => {
  const { server, conn, payload } = ctx;
  const auth = server.auth;
  const validateOnly = payload.validate_only === true || payload.validateonly === true;
  const longtoken = payload.longtoken === true;
  const username = text(payload.username);
  const password = text(payload.password);
  let jwt = text(payload.jwt);
  if (text(payload.rawAssertion)) throw unsupportedError("signin with rawAssertion (OIDC or SAML)");
  if (!jwt && !username && !password && validateOnly && conn.jwt) jwt = conn.jwt;

  let user: TokenUser;
  if (jwt) {
    let tokenUser: TokenUser;
    try {
      tokenUser = (await auth.verify(jwt)).user;
    } catch {
      throw authError(`Discard signin due to invalid or expired jwt for client at ${conn.remote}`);
    }
    const reloaded = auth.reload(tokenUser);
    if (!reloaded) throw authError(`Failed resolving token, could not find user by ${tokenUser._id}`);
    user = reloaded;
  } else if (username !== undefined && password !== undefined) {
    const doc = await auth.login(username, password, conn.remote.slice(0, conn.remote.lastIndexOf(":")));
    if (!doc) throw authError(`${username} failed logging in using local`);
    user = auth.tokenUser(doc);
  } else {
    throw authError("Unknown username or password");
  }
  // server-latest names the token type: jwtsignin for a token, local for a password.
  if (user.disabled) throw authError(`Disabled user ${user.username} failed logging in using ${jwt ? "jwtsignin" : "local"}`);
  // A token made by impersonation is void once the impostor is disabled or gone.
  if (user.impostor) currentUser(server, user);

  const impersonate = text(payload.impersonate);
  if (impersonate && impersonate !== "-1" && impersonate !== "false" && impersonate !== user._id) {
    const target = server.store.get(USERS, impersonate);
    if (!target || target._type !== "user") throw authError(`Permission denied, ${user.name}/${user._id} view and impersonating ${impersonate}`);
    if (!aclAllows(target._acl, user, Rights.update)) throw authError(`Permission denied, ${user.name}/${user._id} updating and impersonating ${impersonate}`);
    user = auth.tokenUser(target, user.impostor ?? user._id);
    if (user.disabled) throw authError(`Disabled user ${user.username} cannot be impersonated`);
  }

  if (!validateOnly && conn.user?._id !== user._id) {
    // One user holds at most its share of the server's connections (limits.maxConnectionsPerUser).
    const max = server.options.limits.maxConnectionsPerUser;
    let held = 0;
    for (const other of server.connections) if (other !== conn && !other.closed && other.user?._id === user._id) held++;
    if (held >= max) throw authError(`too many connections for user ${user.username}: ${held} (limits.maxConnectionsPerUser ${max})`);
  }
  const issued = await auth.issue(user, longtoken);
  if (!validateOnly) {
    conn.user = user;
    conn.jwt = issued.jwt;
    conn.tokenExpiresAt = issued.expiresAt;
    const agent = text(payload.clientagent) ?? text(payload.agent);
    const version = text(payload.clientversion) ?? text(payload.version);
    if (agent) conn.clientagent = agent === "webapp" || agent === "aiotwebapp" ? "browser" : agent === "assistent" ? "assistant" : agent === "pyclient" ? "python" : agent;
    if (version) conn.clientversion = version;
    const stored = server.store.get(USERS, user._id);
    if (stored) server.store.replace(USERS, { ...stored, lastseen: server.stamp(), _lastclientagent: conn.clientagent, _lastclientversion: conn.clientversion }, "update", true);
  }
  const reply: AnyDoc = { ...payload };
  delete reply.rawAssertion;
  // The real server echoes the password (Q10); this one does not send secrets back.
  delete reply.password;
  reply.jwt = issued.jwt;
  reply.user = user;
  reply.supports_watch = true;
  reply.websocket_package_size = server.options.packageSize;
  reply.openflow_uniqueid = "";
  reply.enable_analytics = false;
  return reply;
};
