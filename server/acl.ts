/**
 * Access control as OpenFlow does it (../docs/protocol.md#access-control): every document carries `_acl`, a list of
 * `{_id, name, rights, deny}` entries; a user holds a right on a document when an entry for the user's id or one
 * of its role ids grants the bit and no deny entry for those ids removes it.
 */
import type { AnyDoc } from "./store.js";

/** Right bits as numeric masks (bit n of the Rights enum is stored at position n-1). */
export const Rights = {
  create: 1,
  read: 2,
  update: 4,
  delete: 8,
  invoke: 16,
  full: 65535,
} as const;
export type RightName = Exclude<keyof typeof Rights, "full">;

/** Fixed ids of the built-in roles (../schemas/defs/wellknownids.json). */
export const WellknownIds = {
  root: "59f1f6e6f0a22200126638d8",
  admins: "5a1702fa245d9013697656fb",
  users: "5a17f157c4815318c8536c21",
  robots: "5ac0850ca538fee1ebdb996c",
  customer_admins: "5a1702fa245d9013697656fc",
  resellers: "5a1702fa245d9013697656fd",
  nodered_users: "5a23f18a2e8987292ddbe061",
  nodered_admins: "5a17f157c4815318c8536c20",
  nodered_api_users: "5a17f157c4815318c8536c22",
  filestore_users: "5b6ab63c8d4a64b7c47f4a8f",
  filestore_admins: "5b6ab63c8d4a64b7c47f4a8e",
  robot_users: "5aef0142f3683977b0aa3dd3",
  robot_admins: "5aef0142f3683977b0aa3dd2",
  personal_nodered_users: "5a23f18a2e8987292ddbe062",
  robot_agent_users: "5f33c29d8fe78504bd259a04",
  workitem_queue_admins: "625440c4231309af5f2052cd",
} as const;

/** Role names the real server uses for the well-known ids (a `roles` entry in a users file may use them). */
export const wellknownRoleNames: Record<string, string> = {
  admins: WellknownIds.admins,
  users: WellknownIds.users,
  robots: WellknownIds.robots,
  "customer admins": WellknownIds.customer_admins,
  resellers: WellknownIds.resellers,
  "nodered users": WellknownIds.nodered_users,
  "nodered admins": WellknownIds.nodered_admins,
  "nodered api users": WellknownIds.nodered_api_users,
  "filestore users": WellknownIds.filestore_users,
  "filestore admins": WellknownIds.filestore_admins,
  "robot users": WellknownIds.robot_users,
  "robot admins": WellknownIds.robot_admins,
  "personal nodered users": WellknownIds.personal_nodered_users,
  "robot agent users": WellknownIds.robot_agent_users,
  "workitem queue admins": WellknownIds.workitem_queue_admins,
};

export interface Ace {
  _id: string;
  name?: string;
  deny?: boolean;
  rights: number | string;
}

/** Who asks: the ids that an ACL entry may name (the user id plus every role id, nested roles included). */
export interface Principal {
  _id: string;
  name: string;
  roles: { _id: string; name: string }[];
}

/**
 * Decode `rights` to a 16-bit mask. Numbers are used as they are; digit-only strings are numbers (openrpa);
 * other strings are the legacy base64 bit array (least-significant bit first in each byte).
 */
export function rightsMask(rights: unknown): number {
  if (typeof rights === "number") return rights === -1 ? Rights.full : rights & 0xffff;
  if (typeof rights !== "string") return 0;
  if (/^-?\d+$/.test(rights)) return rightsMask(Number(rights));
  const bytes = Buffer.from(rights, "base64");
  let mask = 0;
  for (let bit = 0; bit < 16; bit++) {
    const byte = bytes[bit >> 3] ?? 0;
    if (byte & (1 << (bit & 7))) mask |= 1 << bit;
  }
  return mask;
}

export function principalIds(principal: Principal): Set<string> {
  return new Set([principal._id, ...principal.roles.map((r) => r._id)]);
}

/** Root and members of admins pass every check (their entry is on every document anyway). */
export function isAdmin(principal: Principal): boolean {
  return principal._id === WellknownIds.root || principal._id === WellknownIds.admins || principal.roles.some((r) => r._id === WellknownIds.admins);
}

/** Does `principal` hold `right` on an object with this ACL? */
export function aclAllows(acl: unknown, principal: Principal, right: number, ids: Set<string> = principalIds(principal)): boolean {
  if (isAdmin(principal)) return true;
  if (!Array.isArray(acl)) return false;
  let granted = false;
  for (const entry of acl as unknown[]) {
    if (typeof entry !== "object" || entry === null) continue;
    const ace = entry as Partial<Ace>;
    if (typeof ace._id !== "string" || !ids.has(ace._id)) continue;
    const mask = rightsMask(ace.rights);
    if ((mask & right) !== right) continue;
    if (ace.deny === true) return false;
    granted = true;
  }
  return granted;
}

/** Set `rights` for `id` in the ACL (OR-ing with an existing allow entry), returning the same array. */
export function addRight(acl: Ace[], id: string, name: string, rights: number): Ace[] {
  const existing = acl.find((a) => a._id === id && a.deny !== true);
  if (existing) existing.rights = rightsMask(existing.rights) | rights;
  else acl.push({ _id: id, name, rights, deny: false });
  return acl;
}

/** The ACL a collection's documents are checked against (`fs.files` keeps it in metadata). */
export function aclOf(collection: string, doc: AnyDoc): unknown {
  if (collection === "fs.files") return (doc.metadata as AnyDoc | undefined)?._acl;
  return doc._acl;
}

export function canAccess(collection: string, doc: AnyDoc, principal: Principal, right: number): boolean {
  return aclAllows(aclOf(collection, doc), principal, right);
}
