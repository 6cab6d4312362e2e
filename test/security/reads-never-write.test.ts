/**
 * Root cause 1 of issue 19: reads ran on the stored objects, and mingo changes nested objects in place for a
 * dotted `$set`/`$addFields`, nested exclusions in `$unset`/`$project`, `$unwind` then `$set`, and `find` with a
 * nested exclusion projection. The store now hands out only frozen documents (store.ts) and the query layer
 * copies what an evaluation may change (query.ts). These tests check the construction (frozen, copies) and the
 * classes of attack, then a property: any read, as any user, leaves every stored document byte-identical.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Rights, WellknownIds } from "../../server/acl.js";
import { aggregate, find } from "../../server/query.js";
import type { AnyDoc } from "../../server/store.js";
import { inProcess, type InProcess } from "./store-harness.js";

function deeplyFrozen(value: unknown): boolean {
  if (value === null || typeof value !== "object") return true;
  return Object.isFrozen(value) && Object.values(value).every(deeplyFrozen);
}

async function fixture(): Promise<InProcess & { aliceDoc: AnyDoc }> {
  const h = await inProcess();
  const bob = h.users.bob!;
  const aliceDoc = await h.must("alice", "insertone", {
    collectionname: "entities",
    item: { name: "shared", nested: { x: 1, deep: { y: [1, 2] } }, arr: [{ y: 1, z: [1] }, { y: 2 }], _acl: [{ _id: bob._id, name: "bob", rights: Rights.read }] },
  });
  await h.must("alice", "insertone", { collectionname: "entities", item: { name: "private", nested: { x: 2 }, arr: [{ y: 3 }] } });
  await h.must("bob", "insertone", { collectionname: "entities", item: { name: "bobs", nested: { x: 3 }, arr: [], ref: "shared" } });
  await h.must("alice", "insertone", { collectionname: "other", item: { name: "o", nested: { x: 4 }, _acl: [{ _id: bob._id, name: "bob", rights: Rights.read }] } });
  // A file document as savefile stores it: its ACL lives in metadata.
  h.server.store.insert("fs.files", {
    _id: "f00000000000000000000001", filename: "a.txt", uniquename: "u-a", length: 1,
    metadata: { name: "a.txt", _acl: [{ _id: WellknownIds.users, name: "users", rights: Rights.read }, { _id: h.users.alice!._id, name: "alice", rights: Rights.full }] },
  });
  return Object.assign(h, { aliceDoc: aliceDoc.result as AnyDoc });
}

describe("reads never write, by construction", () => {
  it("every stored document is deeply frozen: an in-place change throws and the stored value stays", async () => {
    const h = await fixture();
    for (const name of h.server.store.names()) for (const doc of h.server.store.all(name)) expect(deeplyFrozen(doc), `${name}/${String(doc._id)}`).toBe(true);
    const stored = h.server.store.get("entities", String(h.aliceDoc._id)) as AnyDoc;
    expect(() => {
      ((stored.nested as AnyDoc).deep as AnyDoc).y = [9];
    }).toThrow(TypeError);
    expect(() => (stored._acl as AnyDoc[]).push({ _id: "x" })).toThrow(TypeError);
    // The query layer gets stored documents and hands back copies the caller may change.
    const docs = h.server.store.all("entities");
    const out = find(docs, {}, { projection: { "nested.x": 0 } });
    expect(deeplyFrozen(out[0])).toBe(false);
    const agg = aggregate(docs, [{ $set: { "nested.x": 42 } }, { $unwind: "$arr" }, { $set: { "arr.y": 7 } }], () => docs);
    expect(agg.every((d) => (d.nested as AnyDoc).x === 42)).toBe(true);
    expect(docs.every(deeplyFrozen)).toBe(true);
    expect((h.server.store.get("entities", String(h.aliceDoc._id))?.nested as AnyDoc).x).toBe(1);
  });

  it("the review's classes: dotted $set on _acl, nested exclusions, $unwind then $set, $lookup pipelines on fs.files and users change nothing; results are still right", async () => {
    const h = await fixture();
    const before = h.snapshot();
    const attacks: [string, AnyDoc][] = [
      ["aggregate", { collectionname: "entities", aggregates: [{ $set: { "_acl.0.rights": 65535, "nested.x": 5 } }] }],
      ["aggregate", { collectionname: "entities", aggregates: [{ $addFields: { "nested.deep.y": [] } }] }],
      ["aggregate", { collectionname: "entities", aggregates: [{ $unset: ["nested.x", "_acl.rights"] }] }],
      ["aggregate", { collectionname: "entities", aggregates: [{ $project: { "nested.deep": 0, "_acl.rights": 0 } }] }],
      ["aggregate", { collectionname: "entities", aggregates: [{ $unwind: "$arr" }, { $set: { "arr.y": 9, "arr.z": null } }] }],
      ["aggregate", { collectionname: "entities", aggregates: [{ $lookup: { from: "files", pipeline: [{ $set: { "metadata._acl.0.rights": 65535, uniquename: "swapped" } }], as: "f" } }] }],
      ["aggregate", { collectionname: "entities", aggregates: [{ $lookup: { from: "users", pipeline: [{ $unset: "members" }, { $set: { "members.0._id": "x" } }], as: "u" } }] }],
      ["aggregate", { collectionname: "entities", aggregates: [{ $facet: { a: [{ $set: { "nested.x": 0 } }], b: [{ $unwind: "$arr" }, { $unset: "arr.y" }] } }] }],
      ["aggregate", { collectionname: "entities", aggregates: [{ $unionWith: { coll: "other", pipeline: [{ $set: { "nested.x": 0 } }] } }] }],
      ["query", { collectionname: "entities", query: {}, projection: { "_acl.rights": 0, "nested.deep.y": 0 } }],
      ["query", { collectionname: "users", query: {}, projection: { "members._id": 0 } }],
      ["query", { collectionname: "files", query: {}, projection: { "metadata._acl": 0 } }],
      ["distinct", { collectionname: "entities", field: "arr.y", query: {} }],
    ];
    for (const user of ["bob", "alice", "admin"]) {
      for (const [command, payload] of attacks) await h.call(user, command, payload);
    }
    expect(h.snapshot()).toEqual(before);
    // The projection is applied to the reply, not lost: bob sees the shared document without rights.
    const r = await h.must("bob", "query", { collectionname: "entities", query: { name: "shared" }, projection: { "_acl.rights": 0 } });
    expect((r.result as AnyDoc[])[0]?._acl).toEqual([{ _id: h.users.bob!._id, name: "bob" }, { _id: WellknownIds.admins, name: "admins", deny: false }, { _id: h.users.alice!._id, name: "alice", deny: false }]);
    // A well-behaved second client still reads the document with its rights, and the owner can still update it.
    const again = await h.must("alice", "query", { collectionname: "entities", query: { name: "shared" } });
    expect(((again.result as AnyDoc[])[0]?._acl as AnyDoc[])[0]?.rights).toBe(Rights.read);
    await h.must("alice", "updateone", { collectionname: "entities", item: { $set: { name: "shared" } }, query: { _id: h.aliceDoc._id } });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Property (a): reads never change the store.

const SEED = 19_001;
const PATHS = ["name", "nested", "nested.x", "nested.deep", "nested.deep.y", "arr", "arr.y", "arr.z", "_acl", "_acl.rights", "_acl.0.rights", "_acl._id", "metadata._acl", "members", "members._id", "_version", "ref"];
const COLLECTIONS = ["entities", "other", "users", "files", "entities_hist"];

const path = fc.constantFrom(...PATHS);
const scalar = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom("shared", "x", "", null, true), fc.constant([1, 2]), fc.constant({ a: 1 }));
const filter = fc.oneof(
  fc.constant({}),
  fc.record({ k: path, v: scalar }).map(({ k, v }) => ({ [k]: v })),
  fc.record({ k: path, v: scalar }).map(({ k, v }) => ({ [k]: { $ne: v } })),
  path.map((k) => ({ [k]: { $exists: true } })),
);
const projection = fc.oneof(
  fc.dictionary(path, fc.constant(0), { minKeys: 1, maxKeys: 3 }),
  fc.dictionary(path, fc.constant(1), { minKeys: 1, maxKeys: 3 }),
);
const simpleStage = fc.oneof(
  filter.map((q) => ({ $match: q })),
  fc.record({ k: path, v: scalar }).map(({ k, v }) => ({ $set: { [k]: v } })),
  fc.record({ k: path, v: scalar }).map(({ k, v }) => ({ $addFields: { [k]: v } })),
  path.map((k) => ({ $unset: k })),
  projection.map((p) => ({ $project: p })),
  fc.constantFrom("$arr", "$nested.deep.y", "$_acl", "$members").map((p) => ({ $unwind: p })),
  fc.constant({ $replaceRoot: { newRoot: { $ifNull: ["$nested", {}] } } }),
  fc.constant({ $sort: { name: 1 } }),
  fc.constant({ $limit: 3 }),
);
const stage = fc.oneof(
  { weight: 4, arbitrary: simpleStage },
  { weight: 1, arbitrary: fc.record({ from: fc.constantFrom(...COLLECTIONS), pipeline: fc.array(simpleStage, { maxLength: 3 }) }).map(({ from, pipeline }) => ({ $lookup: { from, pipeline, as: "j" } })) },
  { weight: 1, arbitrary: fc.constantFrom(...COLLECTIONS).map((from) => ({ $lookup: { from, localField: "ref", foreignField: "name", as: "j" } })) },
  { weight: 1, arbitrary: fc.record({ coll: fc.constantFrom(...COLLECTIONS), pipeline: fc.array(simpleStage, { maxLength: 3 }) }).map((u) => ({ $unionWith: u })) },
  { weight: 1, arbitrary: fc.record({ a: fc.array(simpleStage, { maxLength: 3 }), b: fc.array(simpleStage, { maxLength: 3 }) }).map((f) => ({ $facet: f })) },
);
const read = fc.oneof(
  fc.record({ command: fc.constant("query"), collectionname: fc.constantFrom(...COLLECTIONS), query: filter, projection: fc.option(projection, { nil: undefined }) }),
  fc.record({ command: fc.constant("aggregate"), collectionname: fc.constantFrom(...COLLECTIONS), aggregates: fc.array(stage, { minLength: 1, maxLength: 4 }) }),
  fc.record({ command: fc.constant("count"), collectionname: fc.constantFrom(...COLLECTIONS), query: filter }),
  fc.record({ command: fc.constant("distinct"), collectionname: fc.constantFrom(...COLLECTIONS), field: path, query: filter }),
);

describe("property: reads never change the store", () => {
  it(`1000 generated queries, pipelines, counts and distincts as any user leave every document byte-identical (seed ${SEED})`, async () => {
    const h = await fixture();
    // History too: one update so entities_hist has a document.
    await h.must("alice", "updateone", { collectionname: "entities", item: { $set: { "nested.x": 10 } }, query: { name: "private" } });
    const before = h.snapshot();
    let answered = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("admin", "alice", "bob"), read, async (user, request) => {
        const { command, ...payload } = request;
        const r = await h.call(user, command, payload as AnyDoc);
        if (r.ok) answered++;
        const after = h.snapshot();
        if (after.size !== before.size) return false;
        for (const [key, text] of before) if (after.get(key) !== text) throw new Error(`${command} as ${user} changed ${key}: ${JSON.stringify(request)}`);
        return true;
      }),
      { numRuns: 1000, seed: SEED },
    );
    // The generator reaches the engine, not only its error paths.
    expect(answered).toBeGreaterThan(500);
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------------------------
// Property (b): with two users, neither sees nor changes anything the ACL does not give.

const SEED_B = 19_002;
const RIGHTS = fc.constantFrom(0, Rights.read, Rights.read | Rights.update, Rights.read | Rights.delete, Rights.full, Rights.update | Rights.delete);
const docSpec = fc.record({ name: fc.constantFrom("a", "b", "c"), n: fc.integer({ min: 0, max: 3 }), alice: RIGHTS, bob: RIGHTS, denyBob: fc.boolean() });
const name = fc.constantFrom("a", "b", "c");
const op = fc.oneof(
  fc.record({ command: fc.constant("query"), query: filter, projection: fc.option(projection, { nil: undefined }) }),
  fc.record({ command: fc.constant("count"), query: filter }),
  fc.record({ command: fc.constant("distinct"), field: fc.constantFrom("name", "n", "_acl"), query: filter }),
  fc.record({ command: fc.constant("aggregate"), aggregates: fc.array(stage, { minLength: 1, maxLength: 3 }) }),
  fc.record({ command: fc.constant("updateone"), query: name.map((v) => ({ name: v })), item: fc.constant({ $inc: { n: 1 } }) }),
  fc.record({ command: fc.constant("updateone"), item: fc.record({ _id: fc.integer({ min: 0, max: 5 }).map(String), name: name }) }),
  fc.record({ command: fc.constant("updatemany"), query: filter, item: fc.constant({ $set: { touched: true } }) }),
  fc.record({ command: fc.constant("deleteone"), id: fc.integer({ min: 0, max: 5 }).map(String) }),
  fc.record({ command: fc.constant("deletemany"), query: filter }),
  fc.record({ command: fc.constant("insertorupdateone"), item: fc.record({ name, n: fc.constant(9) }), uniqeness: fc.constant("name") }),
  fc.record({ command: fc.constant("getdocumentversion"), id: fc.integer({ min: 0, max: 5 }).map(String), version: fc.integer({ min: -1, max: 2 }) }),
);

/** Every object with a data-document `_id` anywhere in a reply. */
function idsIn(value: unknown, ids: Set<string>, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) idsIn(v, ids, out);
  else if (value !== null && typeof value === "object") {
    const id = (value as AnyDoc)._id;
    if (typeof id === "string" && ids.has(id)) out.add(id);
    for (const v of Object.values(value)) idsIn(v, ids, out);
  }
  return out;
}

describe("property: two users see and change only what the ACL gives", () => {
  it(`1000 generated reads and writes by alice and bob on documents with generated ACLs (seed ${SEED_B})`, async () => {
    const h = await inProcess();
    const { alice, bob } = h.users as Record<string, { _id: string; name: string }>;
    const { aclAllows } = await import("../../server/acl.js");
    const ids = Array.from({ length: 6 }, (_, i) => String(i));
    let checked = 0;
    let changed = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(docSpec, { minLength: 6, maxLength: 6 }), fc.constantFrom("alice", "bob"), op, async (specs, actor, request) => {
        // A fresh collection: documents 0..5 created by admin with the generated entries for alice and bob.
        h.server.store.dropCollection("data");
        h.server.store.dropCollection("data_hist");
        specs.forEach((spec, i) => {
          const acl: AnyDoc[] = [{ _id: h.users.admin!._id, name: "admin", rights: Rights.full }];
          if (spec.alice) acl.push({ _id: alice!._id, name: "alice", rights: spec.alice });
          if (spec.bob) acl.push({ _id: bob!._id, name: "bob", rights: spec.bob });
          if (spec.denyBob) acl.push({ _id: bob!._id, name: "bob", rights: Rights.update, deny: true });
          h.server.store.insert("data", { _id: ids[i], _type: "t", name: spec.name, n: spec.n, _acl: acl, _version: 0, _createdbyid: h.users.admin!._id, _created: "2020-01-01T00:00:00.000Z" }, true);
        });
        const who = h.users[actor]!;
        const before = new Map(h.server.store.all("data").map((d) => [String(d._id), d]));
        const may = (id: string, right: number) => aclAllows(before.get(id)?._acl, who, right);
        const { command, ...payload } = request;
        const r = await h.call(actor, command, { collectionname: "data", ...payload } as AnyDoc);
        // Seen: every data document in the reply is one the actor may read.
        if (r.ok) for (const id of idsIn(r.reply, new Set(ids))) if (!may(id, Rights.read)) throw new Error(`${actor} saw ${id} through ${JSON.stringify(request)}`);
        if (r.ok && command === "count") {
          const readable = ids.filter((id) => before.has(id) && may(id, Rights.read)).length;
          if ((r.reply.result as number) > readable) throw new Error(`${actor} counted more than readable: ${JSON.stringify(request)}`);
        }
        // Changed: a document that changed needed update, one that went away needed delete.
        for (const [id, doc] of before) {
          const now = h.server.store.get("data", id);
          if (!now && !may(id, Rights.delete)) throw new Error(`${actor} deleted ${id} through ${JSON.stringify(request)}`);
          if (now && now !== doc && !may(id, Rights.update)) throw new Error(`${actor} changed ${id} through ${JSON.stringify(request)}`);
          if (now !== doc) changed++;
        }
        checked++;
        return true;
      }),
      { numRuns: 1000, seed: SEED_B },
    );
    expect(checked).toBe(1000);
    // The writes reach the store, not only their refusals.
    expect(changed).toBeGreaterThan(100);
  }, 60_000);
});
