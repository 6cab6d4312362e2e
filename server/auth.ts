/**
 * Users, roles, passwords and tokens. Users and roles live in the `users` collection like in OpenFlow (`_type`
 * "user" / "role", role membership in `members`). Passwords are scrypt hashes; tokens are HS256 JWTs with the
 * payload `{data: TokenUser subset, iat, exp}` (../docs/protocol.md#tokens).
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from "node:crypto";
import { SignJWT, jwtVerify } from "jose";
import { addRight, Rights, WellknownIds, wellknownRoleNames, type Ace, type Principal } from "./acl.js";
import { authError } from "./errors.js";
import { normalizeName } from "./names.js";
import { newObjectId } from "./ids.js";
import type { LimitOptions, ServerLogger, UserSpec } from "./options.js";
import type { AnyDoc, Store, StoreChange } from "./store.js";
import { hashGate, SigninThrottle, type SigninKey } from "./throttle.js";

export interface Rolemember {
  _id: string;
  name: string;
}

/** The user as it travels in signin replies, refreshtoken and inside tokens (../schemas/defs/tokenuser.json). */
export interface TokenUser extends Principal {
  _type: "user";
  username: string;
  roles: Rolemember[];
  email: string;
  disabled: boolean;
  validated: boolean;
  dblocked: boolean;
  impostor?: string;
  customerid?: string;
  selectedcustomerid?: string;
}

export const USERS = "users";

const SCRYPT: ScryptOptions = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

/** scrypt through the process-wide hashing gate (throttle.ts): a few at once, a bounded line. */
function scrypt(password: string, salt: Buffer, key?: SigninKey): Promise<Buffer> {
  return hashGate.run(
    () =>
      new Promise((resolve, reject) => {
        scryptCb(password, salt, 64, SCRYPT, (err, derived) => (err ? reject(err) : resolve(derived)));
      }),
    key,
  );
}

/** `scrypt$<salt hex>$<key hex>` */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt);
  return `scrypt$${salt.toString("hex")}$${key.toString("hex")}`;
}

export async function verifyPassword(password: string, stored: unknown, key?: SigninKey): Promise<boolean> {
  if (typeof stored !== "string") return false;
  const [scheme, saltHex, keyHex] = stored.split("$");
  if (scheme !== "scrypt" || !saltHex || !keyHex) return false;
  const expected = Buffer.from(keyHex, "hex");
  const actual = await scrypt(password, Buffer.from(saltHex, "hex"), key);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

export interface IssuedToken {
  jwt: string;
  /** Expiry in ms since the epoch. */
  expiresAt: number;
}

export interface VerifiedToken {
  user: TokenUser;
  expiresAt: number;
}

type AuthLimits = Pick<
  Required<LimitOptions>,
  | "maxConcurrentHashes" | "maxQueuedHashes" | "maxQueuedHashesPerAddress" | "maxQueuedHashesPerUser" | "signinFailuresPerUser" | "signinFailuresPerAddress"
  | "signinFailureWindowMs" | "signinDelayBaseMs" | "signinMaxDelayMs" | "maxRoles"
>;

export class Auth {
  private readonly secret: Uint8Array;
  /** Failed-signin slow-down (throttle.ts). */
  readonly throttle: SigninThrottle;
  /** Signins waiting out a slow-down, by address (bounded like the hashing line's share). */
  private readonly slowed = new Map<string, number>();
  /** Expanded roles per principal id, valid until a role document changes. */
  private readonly roleCache = new Map<string, Rolemember[]>();
  /** member id -> the roles that list it, built on demand from the role documents. */
  private memberIndex: Map<string, AnyDoc[]> | undefined;

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
    private readonly lifetimes: { shortSeconds: number; longSeconds: number },
    secret: Uint8Array | undefined,
    private readonly limits: AuthLimits,
    private readonly logger?: ServerLogger,
  ) {
    this.secret = secret ?? randomBytes(32);
    hashGate.configure(limits.maxConcurrentHashes, limits.maxQueuedHashes, limits.maxQueuedHashesPerAddress, limits.maxQueuedHashesPerUser);
    this.throttle = new SigninThrottle(limits, now);
    store.onChange((change) => this.rolesChanged(change));
  }

  private rolesChanged(change: StoreChange): void {
    if (change.collection !== USERS) return;
    if (change.before?._type !== "role" && change.after?._type !== "role") return;
    this.roleCache.clear();
    this.memberIndex = undefined;
  }

  /** Create the built-in roles and the given users (passwords hashed). */
  async init(users: UserSpec[]): Promise<void> {
    this.ensureRole("admins", WellknownIds.admins);
    this.ensureRole("users", WellknownIds.users);
    this.ensureRole("filestore admins", WellknownIds.filestore_admins);
    this.ensureRole("filestore users", WellknownIds.filestore_users);
    this.ensureRole("workitem queue admins", WellknownIds.workitem_queue_admins);
    for (const spec of users) await this.createUser(spec);
  }

  /** The role document with this name, created when missing (well-known names get their fixed ids). */
  ensureRole(name: string, id?: string): AnyDoc {
    const existing = this.store.all(USERS).find((d) => d._type === "role" && d.name === name);
    if (existing) return existing;
    const _id = id ?? wellknownRoleNames[name] ?? newObjectId(this.now());
    const stamp = new Date(this.now()).toISOString();
    const acl: Ace[] = [];
    addRight(acl, WellknownIds.admins, "admins", Rights.full);
    addRight(acl, _id, name, Rights.read);
    const role: AnyDoc = {
      _id, _type: "role", name, members: [], _acl: acl, _created: stamp, _modified: stamp,
      _createdby: "root", _createdbyid: WellknownIds.root, _modifiedby: "root", _modifiedbyid: WellknownIds.root, _version: 0,
    };
    return this.store.insert(USERS, role, true);
  }

  addMember(roleId: string, member: Rolemember): void {
    const role = this.store.get(USERS, roleId);
    if (!role) return;
    const members = Array.isArray(role.members) ? (role.members as Rolemember[]) : [];
    if (members.some((m) => m._id === member._id)) return;
    this.store.replace(USERS, { ...role, members: [...members, member] }, "update", true);
  }

  removeRole(roleId: string): void {
    this.store.remove(USERS, roleId);
  }

  async createUser(spec: UserSpec): Promise<AnyDoc> {
    const username = spec.username.toLowerCase();
    if (this.findUserByUsername(username)) throw authError(`User ${username} already exists`);
    const _id = newObjectId(this.now());
    const name = spec.name ?? spec.username;
    const stamp = new Date(this.now()).toISOString();
    const acl: Ace[] = [];
    addRight(acl, WellknownIds.admins, "admins", Rights.full);
    addRight(acl, _id, name, Rights.read | Rights.update | Rights.invoke);
    const user: AnyDoc = {
      _id, _type: "user", name, username, passwordhash: await hashPassword(spec.password), email: "",
      disabled: false, validated: true, dblocked: false, _acl: acl, _created: stamp, _modified: stamp,
      _createdby: "root", _createdbyid: WellknownIds.root, _modifiedby: "root", _modifiedbyid: WellknownIds.root, _version: 0,
    };
    const stored = this.store.insert(USERS, user, true);
    const member = { _id, name };
    this.addMember(WellknownIds.users, member);
    for (const roleName of spec.roles ?? []) {
      const role = this.ensureRole(roleName);
      this.addMember(String(role._id), member);
    }
    return stored;
  }

  findUserByUsername(username: string): AnyDoc | undefined {
    const wanted = normalizeName(username).toLowerCase();
    return this.store.all(USERS).find((d) => d._type === "user" && typeof d.username === "string" && d.username.toLowerCase() === wanted);
  }

  /**
   * Check a username and password; undefined when either is wrong. After too many recent failures of this
   * username from this address (or of this address), the check waits a growing delay first (throttle.ts), so
   * guessing is slow while the owner, whose right password still works, is never locked out. The wait holds
   * no hashing slot; the signins waiting from one address are capped like its share of the hashing line.
   */
  async login(username: string, password: string, address = ""): Promise<AnyDoc | undefined> {
    const key: SigninKey = { address, user: username.toLowerCase() };
    const delay = this.throttle.delayFor(key);
    if (delay > 0) {
      const waiting = this.slowed.get(address) ?? 0;
      if (waiting >= this.limits.maxQueuedHashesPerAddress) {
        throw authError(`Server busy: ${waiting} signins from ${address} are waiting out failed-signin delays (limits.maxQueuedHashesPerAddress); try again later`);
      }
      this.slowed.set(address, waiting + 1);
      try {
        await new Promise((resolve) => setTimeout(resolve, delay).unref());
      } finally {
        const left = (this.slowed.get(address) ?? 1) - 1;
        if (left <= 0) this.slowed.delete(address);
        else this.slowed.set(address, left);
      }
    }
    const user = this.findUserByUsername(username);
    // Hash even for unknown users, so the answer time does not reveal which usernames exist.
    const ok = await verifyPassword(password, user?.passwordhash ?? "scrypt$00$00", key);
    if (ok && user) {
      this.throttle.succeeded(key);
      return user;
    }
    this.throttle.failed(key);
    return undefined;
  }

  private membersIndex(): Map<string, AnyDoc[]> {
    if (this.memberIndex) return this.memberIndex;
    const index = new Map<string, AnyDoc[]>();
    for (const role of this.store.all(USERS)) {
      if (role._type !== "role" || !Array.isArray(role.members)) continue;
      for (const m of role.members as unknown[]) {
        const mid = typeof m === "object" && m !== null ? (m as Rolemember)._id : undefined;
        if (typeof mid !== "string") continue;
        const list = index.get(mid);
        if (list) list.push(role);
        else index.set(mid, [role]);
      }
    }
    this.memberIndex = index;
    return index;
  }

  /**
   * Expand a user's roles, nested roles included, from current role membership: a walk over a member -> roles
   * index, cached until a role document changes, and cut at limits.maxRoles (a long chain of roles costs one
   * walk, not one per command).
   */
  rolesOf(id: string): Rolemember[] {
    const cached = this.roleCache.get(id);
    if (cached) return cached.slice();
    const index = this.membersIndex();
    const found = new Map<string, Rolemember>();
    const queue = [id];
    for (let i = 0; i < queue.length; i++) {
      for (const role of index.get(queue[i] as string) ?? []) {
        const rid = String(role._id);
        if (found.has(rid) || rid === id) continue;
        if (found.size >= this.limits.maxRoles) {
          this.logger?.warn(`roles of ${id}: more than ${this.limits.maxRoles} roles (limits.maxRoles); the rest are ignored`);
          queue.length = 0;
          break;
        }
        found.set(rid, { _id: rid, name: String(role.name ?? "") });
        queue.push(rid);
      }
    }
    const roles = [...found.values()];
    if (this.roleCache.size >= 10_000) this.roleCache.clear();
    this.roleCache.set(id, roles);
    return roles.slice();
  }

  /** The TokenUser for a stored user document, roles reloaded. */
  tokenUser(doc: AnyDoc, impostor?: string): TokenUser {
    const user: TokenUser = {
      _type: "user",
      _id: String(doc._id),
      name: String(doc.name ?? doc.username ?? ""),
      username: String(doc.username ?? ""),
      roles: this.rolesOf(String(doc._id)),
      email: typeof doc.email === "string" ? doc.email : "",
      disabled: doc.disabled === true,
      validated: doc.validated !== false,
      dblocked: doc.dblocked === true,
    };
    if (impostor) user.impostor = impostor;
    if (typeof doc.customerid === "string") user.customerid = doc.customerid;
    if (typeof doc.selectedcustomerid === "string") user.selectedcustomerid = doc.selectedcustomerid;
    return user;
  }

  /** Reload a user by id (roles current); undefined when the user is gone. */
  reload(user: Pick<TokenUser, "_id" | "impostor">): TokenUser | undefined {
    const doc = this.store.get(USERS, user._id);
    if (!doc || doc._type !== "user") return undefined;
    return this.tokenUser(doc, user.impostor);
  }

  async issue(user: TokenUser, long: boolean): Promise<IssuedToken> {
    const iat = Math.floor(this.now() / 1000);
    const exp = iat + (long ? this.lifetimes.longSeconds : this.lifetimes.shortSeconds);
    const data: AnyDoc = { _type: user._type, _id: user._id, name: user.name, username: user.username, roles: user.roles, dblocked: user.dblocked };
    if (user.impostor) data.impostor = user.impostor;
    if (user.customerid) data.customerid = user.customerid;
    if (user.selectedcustomerid) data.selectedcustomerid = user.selectedcustomerid;
    // jti keeps two tokens issued in the same second for the same user distinct (a refresh must change the token).
    const jwt = await new SignJWT({ data })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .setJti(randomBytes(9).toString("base64url"))
      .sign(this.secret);
    return { jwt, expiresAt: exp * 1000 };
  }

  /** Verify signature and expiry; the user comes from the token's `data`. Throws an "auth" error. */
  async verify(jwt: string): Promise<VerifiedToken> {
    try {
      const { payload } = await jwtVerify(jwt, this.secret, { algorithms: ["HS256"], currentDate: new Date(this.now()) });
      const data = payload.data as AnyDoc | undefined;
      if (!data || typeof data._id !== "string" || typeof payload.exp !== "number") throw new Error("token has no user");
      const user: TokenUser = {
        _type: "user", _id: data._id, name: String(data.name ?? ""), username: String(data.username ?? ""),
        roles: Array.isArray(data.roles) ? (data.roles as Rolemember[]) : [], email: "", disabled: false, validated: true,
        dblocked: data.dblocked === true,
      };
      if (typeof data.impostor === "string") user.impostor = data.impostor;
      return { user, expiresAt: payload.exp * 1000 };
    } catch (err) {
      throw authError(`invalid or expired jwt: ${(err as Error).message}`);
    }
  }
}
