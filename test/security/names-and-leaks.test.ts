/**
 * Item 7 of issue 19 (server part): look-alike names, fs.files written around savefile, a work item queue name
 * that differs only in case, forged `_created*`, the insertorupdateone existence oracle, and listcollections
 * showing other users' collections. (count's cost independent of unreadable documents: query-bounds.test.ts.)
 * Each test checks the refusal and that a well-behaved user is still served.
 */
import { describe, expect, it } from "vitest";
import { Rights } from "../../server/acl.js";
import type { AnyDoc } from "../../server/store.js";
import { inProcess } from "./store-harness.js";

const user = (username: string, extra: AnyDoc = {}) => ({ collectionname: "users", item: { _type: "user", username, name: username, ...extra } });
const queue = (name: string) => ({ name, maxretries: 3, retrydelay: 0, initialdelay: 0 });

describe("names that read the same are the same name", () => {
  it("users and roles: a no-break space, a Cyrillic а, a zero-width space or another case do not make a new name; names are stored normalized", async () => {
    const h = await inProcess();
    for (const name of ["alice\u00a0", "\u0430lice", "ALICE", " alice ", "al\u200bice"]) {
      const r = await h.call("admin", "insertone", user(name));
      expect(r.ok, JSON.stringify(name)).toBe(false);
      expect(String(!r.ok && r.error.message)).toMatch(/already exists/);
    }
    const role = await h.call("admin", "insertone", { collectionname: "users", item: { _type: "role", name: "root\u200b" } });
    expect(!role.ok && role.error.message).toMatch(/reserved name/);
    const lookalikeRole = await h.call("admin", "insertone", { collectionname: "users", item: { _type: "role", name: "\u0430dmins" } });
    expect(lookalikeRole.ok).toBe(false);
    // A rename to a look-alike of another user is refused too.
    const carol = (await h.must("admin", "insertone", user("  Carol \u00a0 Smith\u200b "))).result as AnyDoc;
    expect(carol.name).toBe("Carol Smith");
    expect(carol.username).toBe("carol smith");
    const rename = await h.call("admin", "updateone", { collectionname: "users", query: { _id: carol._id }, item: { $set: { name: "b\u03bfb" } } });
    expect(!rename.ok && rename.error.message).toMatch(/already exists/);
    // A distinct name is fine, and the owner of "alice" still signs in with her name as typed before.
    expect((await h.call("admin", "insertone", user("dave"))).ok).toBe(true);
    expect(await h.server.auth.login("alice\u00a0", "pw-alice")).toBeTruthy();
  });

  it("a work item queue whose name differs only in case (or reads the same) is refused: the owner keeps his queue", async () => {
    const h = await inProcess();
    await h.must("alice", "addworkitemqueue", queue("Jobs"));
    for (const name of ["jobs", "JOBS", "J\u043ebs"]) {
      const r = await h.call("bob", "addworkitemqueue", queue(name));
      expect(!r.ok && r.error.message, name).toMatch(/already exists/);
    }
    expect((await h.call("alice", "addworkitem", { wiq: "Jobs", name: "first", payload: {} })).ok).toBe(true);
    expect((await h.call("bob", "addworkitemqueue", queue("bobs"))).ok).toBe(true);
  });
});

describe("fields and documents only the server writes", () => {
  it("fs.files: no updateone of uniquename, length or filename (getfile would serve another file's bytes); metadata stays the owner's", async () => {
    const h = await inProcess();
    const mine = await h.must("alice", "savefile", { filename: "mine.txt", file: Buffer.from("alice's bytes").toString("base64"), metadata: { _acl: [{ _id: h.users.bob!._id, name: "bob", rights: Rights.full }] } });
    const theirs = await h.must("admin", "savefile", { filename: "admin.txt", file: Buffer.from("admin secret").toString("base64"), metadata: { _acl: [] } });
    const other = h.server.store.get("fs.files", String(theirs.id)) as AnyDoc;
    for (const who of ["bob", "alice"]) {
      const r = await h.call(who, "updateone", { collectionname: "files", query: { _id: mine.id }, item: { $set: { "metadata.uniquename": (other.metadata as AnyDoc).uniquename, uniquename: "x", length: 1 } } });
      expect(!r.ok && r.error.message).toMatch(/written by savefile only/);
      const replace = await h.call(who, "updateone", { collectionname: "files", item: { ...(h.server.store.get("fs.files", String(mine.id)) as AnyDoc), _id: theirs.id } });
      expect(replace.ok).toBe(false);
    }
    expect((await h.call("alice", "insertone", { collectionname: "files", item: { filename: "forged" } })).ok).toBe(false);
    const meta = await h.call("alice", "updateone", { collectionname: "files", query: { _id: mine.id }, item: { $set: { "metadata.uniquename": (other.metadata as AnyDoc).uniquename } } });
    expect(!meta.ok && meta.error.message).toMatch(/metadata\.uniquename of a file is written by savefile only/);
    const got = await h.must("bob", "getfile", { id: mine.id });
    expect(Buffer.from(String(got.file), "base64").toString()).toBe("alice's bytes");
    // Metadata is still the owner's to change.
    await h.must("alice", "updateone", { collectionname: "files", query: { _id: mine.id }, item: { $set: { "metadata.note": "ok" } } });
  });

  it("_created* and _version cannot be forged with $set or $unset", async () => {
    const h = await inProcess();
    const doc = (await h.must("alice", "insertone", { collectionname: "data", item: { name: "d" } })).result as AnyDoc;
    await h.must("alice", "updateone", { collectionname: "data", query: { _id: doc._id }, item: { $set: { _created: "1999-01-01T00:00:00.000Z", _createdby: "root", _createdbyid: h.users.admin!._id, _version: 99 } } });
    await h.must("alice", "updateone", { collectionname: "data", query: { _id: doc._id }, item: { $unset: { _created: 1, _createdby: 1 } } });
    const stored = h.server.store.get("data", String(doc._id)) as AnyDoc;
    expect(stored).toMatchObject({ _created: doc._created, _createdby: doc._createdby, _createdbyid: h.users.alice!._id, _version: 2, _modifiedby: doc._createdby });
  });

  it("insertorupdateone by _id answers the same whether an unreadable document has that id or none has", async () => {
    const h = await inProcess();
    const hidden = (await h.must("alice", "insertone", { collectionname: "data", item: { name: "private" } })).result as AnyDoc;
    const unused = "0123456789abcdef01234567";
    const shapes: string[] = [];
    for (const id of [String(hidden._id), unused]) {
      const r = await h.call("bob", "insertorupdateone", { collectionname: "data", item: { _id: id, name: "probe" } });
      expect(r.ok).toBe(true);
      const result = (r.ok ? r.reply.result : {}) as AnyDoc;
      expect(result._id).not.toBe(id);
      shapes.push(JSON.stringify(Object.keys(result).sort()) + JSON.stringify(r.ok && r.reply.opresult));
    }
    expect(shapes[0]).toBe(shapes[1]);
    expect((h.server.store.get("data", String(hidden._id)) as AnyDoc).name).toBe("private");
    // The owner's own upsert by _id still updates her document.
    const own = await h.must("alice", "insertorupdateone", { collectionname: "data", item: { _id: hidden._id, name: "renamed" } });
    expect((own.result as AnyDoc)._id).toBe(hidden._id);
  });

  it("listcollections shows a user only collections holding something he may read; an admin sees all", async () => {
    const h = await inProcess();
    await h.must("alice", "insertone", { collectionname: "alice_plans", item: { name: "p" } });
    await h.must("alice", "insertone", { collectionname: "shared_plans", item: { name: "s", _acl: [{ _id: h.users.bob!._id, name: "bob", rights: Rights.read }] } });
    const names = async (who: string) => ((await h.must(who, "listcollections", {})).result as AnyDoc[]).map((c) => c.name);
    expect(await names("bob")).not.toContain("alice_plans");
    expect(await names("bob")).toContain("shared_plans");
    expect(await names("alice")).toEqual(expect.arrayContaining(["alice_plans", "shared_plans", "entities"]));
    expect(await names("admin")).toEqual(expect.arrayContaining(["alice_plans", "shared_plans"]));
  });
});
