/**
 * Red-team review of issue 11 classes 1-3: holes found after the first adversarial suite (authz.test.ts), one test
 * per hole. Each asserts the refusal (or the bounded effect) and that a well-behaved client is still served.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawPeer, type RawPeer } from "../server-helpers.js";
import { closedBy, startHarness, type Harness, type Session } from "./authz-harness.js";

const NAMES = ["admin", "alice", "bob", "carol", "dave", "frank"] as const;
type Name = (typeof NAMES)[number];

let h: Harness;
let admin: Session;
const signin = (name: Name) => h.signin(name);
const ok = (s: Session | RawPeer, command: string, payload: Record<string, unknown>) => h.ok(s, command, payload);
const refused = (s: Session | RawPeer, command: string, payload: Record<string, unknown>, pattern: RegExp) => h.refused(s, command, payload, pattern);
const stillServing = () => h.stillServing();

const queue = (name: string, extra: Record<string, unknown> = {}) => ({ name, maxretries: 3, retrydelay: 0, initialdelay: 0, ...extra });

beforeAll(async () => {
  // frank is the well-behaved client every test checks at the end.
  h = await startHarness(NAMES, ["admin"], "admin", "frank");
  ({ admin } = h);
});

afterAll(async () => {
  await h?.close();
});

describe("class 1: account integrity", () => {
  it("a name that is not a string cannot slip past the name rules (an array ['root'] became the token name 'root')", async () => {
    const alice = await signin("alice");
    for (const name of [["root"], ["bob"], ["admins"], { toString: "root" }, 42]) {
      await refused(alice, "updateone", { collectionname: "users", query: { _id: alice.id }, item: { $set: { name } } }, /name must be a string/);
      await refused(alice, "updateone", { collectionname: "users", item: { _id: alice.id, _type: "user", username: "alice", name } }, /name must be a string/);
    }
    const me = await ok(alice, "signin", { jwt: alice.jwt, validate_only: true });
    expect(me.user.name).toBe("alice");
    // A string rename still works.
    await ok(alice, "updateone", { collectionname: "users", query: { _id: alice.id }, item: { $set: { name: "Alice A." } } });
    expect((await ok(alice, "signin", { jwt: alice.jwt, validate_only: true })).user.name).toBe("Alice A.");
    await stillServing();
  });

  it("an impersonation token dies when the impostor loses the right to impersonate (update on the target)", async () => {
    const bob = await signin("bob");
    const carol = await signin("carol");
    const carolDoc = (await ok(admin, "query", { collectionname: "users", query: { _id: carol.id } })).result[0];
    const granted = [...carolDoc._acl, { _id: bob.id, name: "bob", rights: 65535, deny: false }];
    await ok(admin, "updateone", { collectionname: "users", query: { _id: carol.id }, item: { $set: { _acl: granted } } });
    const asCarol = await ok(bob, "signin", { jwt: bob.jwt, impersonate: carol.id, validate_only: true });
    expect(asCarol.user.impostor).toBe(bob.id);
    const other = await rawPeer(h.server.url);
    h.peers.push(other);
    expect((await ok(other, "count", { collectionname: "entities", query: {}, jwt: asCarol.jwt })).result).toBeTypeOf("number");
    // The admin takes the right back: the token (valid for hours) must stop working at once.
    await ok(admin, "updateone", { collectionname: "users", query: { _id: carol.id }, item: { $set: { _acl: carolDoc._acl } } });
    await refused(other, "count", { collectionname: "entities", query: {}, jwt: asCarol.jwt }, /no longer allowed to impersonate/);
    await refused(other, "signin", { jwt: asCarol.jwt }, /no longer allowed to impersonate/);
    // Carol herself and bob are unaffected.
    expect((await ok(carol, "count", { collectionname: "entities", query: {} })).result).toBeTypeOf("number");
    expect((await ok(bob, "count", { collectionname: "entities", query: {} })).result).toBeTypeOf("number");
    await stillServing();
  });

  it("an impersonated session closes when the impostor loses the role that let him impersonate (no more watch events)", async () => {
    const alice = await signin("alice");
    const dave = await signin("dave");
    const carol = await signin("carol");
    const q = (await ok(alice, "addworkitemqueue", queue("helpdesk"))).result;
    await ok(alice, "updateone", { collectionname: "users", query: { _id: q.usersrole }, item: { $push: { members: { _id: dave.id, name: "dave" } } } });
    const carolDoc = (await ok(admin, "query", { collectionname: "users", query: { _id: carol.id } })).result[0];
    await ok(admin, "updateone", { collectionname: "users", query: { _id: carol.id }, item: { $push: { _acl: { _id: q.usersrole, name: "helpdesk users", rights: 6, deny: false } } } });
    // dave's connection becomes carol's, through the helpdesk role.
    expect((await ok(dave, "signin", { jwt: dave.jwt, impersonate: carol.id })).user.impostor).toBe(dave.id);
    await ok(dave, "watch", { collectionname: "entities", paths: [] });
    // alice takes dave out of the role: the impersonated connection closes at once, before any command of his.
    await ok(alice, "updateone", { collectionname: "users", query: { _id: q.usersrole }, item: { $pull: { members: { _id: dave.id } } } });
    await closedBy(dave.peer);
    await ok(admin, "updateone", { collectionname: "users", query: { _id: carol.id }, item: { $set: { _acl: carolDoc._acl } } });
    await stillServing();
  });
  it("newpassword on a role document someone may update never stores a password hash on the role", async () => {
    const alice = await signin("alice");
    const q = (await ok(alice, "addworkitemqueue", queue("rolepw"))).result;
    await ok(alice, "updateone", { collectionname: "users", query: { _id: q.usersrole }, item: { $set: { newpassword: "letmein" } } });
    const stored = h.server.context.store.get("users", q.usersrole);
    expect(stored?.passwordhash).toBeUndefined();
    expect(stored?.newpassword).toBeUndefined();
    await stillServing();
  });

  it("an insert with an _id that exists is a command error with MongoDB's text, not a crash inside the server", async () => {
    const alice = await signin("alice");
    const doc = (await ok(alice, "insertone", { collectionname: "entities", item: { name: "first" } })).result;
    await refused(alice, "insertone", { collectionname: "entities", item: { _id: doc._id, name: "second" } }, /^E11000 duplicate key error collection: entities index: _id_ dup key/);
    await stillServing();
  });
});

describe("class 2: side doors around the ACL", () => {
  it("a follow-up queue is named only by someone who may add to it: no work planted in another user's queue through a robot", async () => {
    const alice = await signin("alice");
    const bob = await signin("bob");
    const carol = await signin("carol");
    // carol's private queue, that her robot bob may work on; bob's shared intake queue that alice may feed.
    const carolQ = (await ok(carol, "addworkitemqueue", queue("carol.private", { skiprole: true, _acl: [{ _id: bob.id, name: "bob", rights: 65535 }] }))).result;
    await ok(bob, "addworkitemqueue", queue("bob.intake", { skiprole: true, _acl: [{ _id: alice.id, name: "alice", rights: 65535 }] }));
    await ok(alice, "addworkitemqueue", queue("alice.own"));
    // alice cannot invoke carol.private, so she may not make bob's completion copy her item there, by any path.
    const intoCarol = { success_wiq: "carol.private" };
    await refused(alice, "addworkitem", { wiq: "bob.intake", name: "planted", payload: { evil: true }, ...intoCarol }, /missing invoke rights|not found/);
    await refused(alice, "addworkitem", { wiq: "bob.intake", name: "planted", payload: {}, failed_wiqid: carolQ._id }, /missing invoke rights|not found/);
    await refused(alice, "addworkitems", { wiq: "bob.intake", items: [{ name: "planted", payload: {} }], ...intoCarol }, /missing invoke rights|not found/);
    await refused(alice, "addworkitems", { wiq: "bob.intake", items: [{ name: "planted", payload: {}, ...intoCarol }] }, /missing invoke rights|not found/);
    const item = (await ok(alice, "addworkitem", { wiq: "bob.intake", name: "fine", payload: {} })).result;
    await refused(alice, "updateworkitem", { _id: item._id, ...intoCarol }, /missing invoke rights|not found/);
    // A readable id of her own with carol's queue as the name: bob, who cannot read the id, would fall back to the name.
    const own = (await ok(alice, "getworkitemqueue", { name: "alice.own" })).result;
    await refused(alice, "updateworkitem", { _id: item._id, success_wiqid: own._id, ...intoCarol }, /name different work item queues|missing invoke|not found/);
    await ok(alice, "updateworkitem", { _id: item._id, success_wiq: "alice.own" });
    await ok(alice, "updateworkitem", { _id: item._id, success_wiq: "", success_wiqid: "" });
    // Nor as a queue's default follow-up, on creation or update.
    await refused(alice, "addworkitemqueue", queue("alice.relay", intoCarol), /missing invoke rights|not found/);
    await refused(alice, "updateworkitemqueue", { name: "alice.own", ...intoCarol }, /missing invoke rights|not found/);
    // bob works the queue; nothing reaches carol's queue.
    const popped = (await ok(bob, "popworkitem", { wiq: "bob.intake" })).result;
    expect(popped.name).toBe("fine");
    await ok(bob, "updateworkitem", { _id: popped._id, state: "successful" });
    const inCarol = await ok(admin, "query", { collectionname: "workitems", query: { wiqid: carolQ._id } });
    expect(inCarol.result).toEqual([]);
    // Someone who may add to the follow-up queue still names it (bob, carol's robot).
    await ok(bob, "addworkitem", { wiq: "bob.intake", name: "legit", payload: {}, ...intoCarol });
    await stillServing();
  });
});

describe("class 3: side channels", () => {
  it("selectcustomer answers an unreadable customer like a missing one, and does not select it", async () => {
    const dave = await signin("dave");
    const acme = (await ok(admin, "insertone", { collectionname: "users", item: { _type: "customer", name: "acme corp" } })).result;
    const missing = await ok(dave, "selectcustomer", { customerid: "0123456789abcdef01234567" });
    const hidden = await ok(dave, "selectcustomer", { customerid: acme._id });
    expect(missing.customerid).toBeNull();
    expect(hidden.customerid).toBeNull();
    const stored = async () => (await ok(admin, "query", { collectionname: "users", query: { _id: dave.id } })).result[0].selectedcustomerid;
    expect(await stored()).toBeNull();
    // Shared with dave, it can be selected.
    await ok(admin, "updateone", { collectionname: "users", query: { _id: acme._id }, item: { $push: { _acl: { _id: dave.id, name: "dave", rights: 2, deny: false } } } });
    expect((await ok(dave, "selectcustomer", { customerid: acme._id })).customerid).toBe(acme._id);
    expect(await stored()).toBe(acme._id);
    await stillServing();
  });

  it("updatefile answers a file the caller cannot read like a missing one", async () => {
    const carol = await signin("carol");
    const dave = await signin("dave");
    const secret = await ok(carol, "savefile", { filename: "secret.txt", file: Buffer.from("s").toString("base64"), metadata: { _acl: [] } });
    const readOnly = await ok(carol, "savefile", { filename: "shared.txt", file: Buffer.from("r").toString("base64"), metadata: { _acl: [{ _id: dave.id, name: "dave", rights: 2 }] } });
    await refused(dave, "updatefile", { id: "0123456789abcdef01234567", metadata: { x: 1, _acl: [] } }, /^Cannot update file with id 0123456789abcdef01234567$/);
    await refused(dave, "updatefile", { id: secret.id, metadata: { x: 1, _acl: [] } }, new RegExp(`^Cannot update file with id ${secret.id}$`));
    // A file he may read but not update is refused as before.
    await refused(dave, "updatefile", { id: readOnly.id, metadata: { x: 1, _acl: [] } }, /Access denied/);
    expect((await ok(carol, "getfile", { id: secret.id })).metadata.x).toBeUndefined();
    await stillServing();
  });

  it("queryas needs read on that principal: counting what another user's roles give told who is in which role", async () => {
    const alice = await signin("alice");
    const bob = await signin("bob");
    const carol = await signin("carol");
    const dave = await signin("dave");
    const q = (await ok(alice, "addworkitemqueue", queue("teamx"))).result;
    const role = (await ok(alice, "query", { collectionname: "users", query: { _id: q.usersrole } })).result[0];
    await ok(alice, "updateone", { collectionname: "users", query: { _id: role._id }, item: { $push: { members: { _id: bob.id, name: "bob" } } } });
    const doc = (await ok(alice, "insertone", { collectionname: "entities", item: { name: "teamx plan", _acl: [{ _id: carol.id, name: "carol", rights: 2 }, { _id: role._id, name: role.name, rights: 2 }] } })).result;
    // carol can read the document, but not bob's or dave's user document: she may not query as them.
    for (const [command, extra] of [["count", { query: { _id: doc._id } }], ["query", { query: { _id: doc._id } }], ["distinct", { field: "name" }], ["aggregate", { aggregates: [] }]] as const) {
      for (const id of [bob.id, dave.id, "0123456789abcdef01234567"]) {
        await refused(carol, command, { collectionname: "entities", queryas: id, ...extra }, new RegExp(`^queryas ${id} not found or access denied$`));
      }
    }
    // As herself, as a role she can read, or (alice) as a member of her role, it still works.
    expect((await ok(carol, "count", { collectionname: "entities", query: { _id: doc._id }, queryas: carol.id })).result).toBe(1);
    expect((await ok(bob, "count", { collectionname: "entities", query: { _id: doc._id }, queryas: role._id })).result).toBe(1);
    expect((await ok(admin, "count", { collectionname: "entities", query: { _id: doc._id }, queryas: dave.id })).result).toBe(0);
    await stillServing();
  });
});
