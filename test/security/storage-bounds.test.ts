/**
 * Root cause 4 of issue 19: storage had no bound and history kept a full copy per change (a 20 MB document plus
 * small `$inc` updates grew the server to 3.5 GB). Now: MongoDB's 16 MiB document limit with the driver's text,
 * a per-user quota of stored bytes (and a total), and history as jsondiffpatch deltas with a full copy only at
 * the start and every limits.historyFullEvery versions, as server-latest keeps `<collection>_hist`.
 */
import { describe, expect, it } from "vitest";
import { MONGODB_MAX_DOCUMENT_BYTES, resolveOptions } from "../../server/options.js";
import { storedSize, type AnyDoc } from "../../server/store.js";
import { closeAfterEach, errorOf, server, signedIn, stillServes } from "./dos-helpers.js";
import { inProcess } from "./store-harness.js";

closeAfterEach();

function histBytes(h: { server: { store: { all(n: string): AnyDoc[] } } }, name: string): number {
  return h.server.store.all(name).reduce((n, d) => n + storedSize(d), 0);
}

describe("storage bounds (root cause 4)", () => {
  it("the document limit is MongoDB's 16 MiB by default; a larger document is refused with the driver's text, on insert and on update", async () => {
    expect(MONGODB_MAX_DOCUMENT_BYTES).toBe(16_777_216);
    expect(resolveOptions().limits.maxDocumentBytes).toBe(16_777_216);
    const s = await server({ limits: { maxDocumentBytes: 100_000 } });
    const alice = await signedIn(s.url, "alice");
    expect(errorOf(await alice.request("insertone", { collectionname: "entities", item: { big: "x".repeat(100_000) } }))).toBe("Document is larger than the maximum size 100000");
    const small = await alice.request("insertone", { collectionname: "entities", item: { name: "grows", big: "x".repeat(60_000) } });
    expect(small.command).toBe("insertone");
    const grow = await alice.request("updateone", { collectionname: "entities", query: { name: "grows" }, item: { $set: { more: "y".repeat(60_000) } } });
    expect(errorOf(grow)).toBe("Document is larger than the maximum size 100000");
    await stillServes(s.url);
  });

  it("a large document plus many small $inc updates keeps one full copy and small deltas in history; every version is rebuilt", async () => {
    const h = await inProcess();
    const big = { name: "big", n: 0, blob: "z".repeat(400_000), list: Array.from({ length: 200 }, (_, i) => ({ name: `i${i}`, v: i })) };
    const doc = (await h.must("alice", "insertone", { collectionname: "entities", item: big })).result as AnyDoc;
    for (let i = 0; i < 60; i++) await h.must("alice", "updateone", { collectionname: "entities", query: { _id: doc._id }, item: { $inc: { n: 1 } } });
    const size = storedSize(h.server.store.get("entities", String(doc._id)) as AnyDoc);
    const hist = h.server.store.all("entities_hist");
    expect(hist.filter((e) => e.item !== undefined)).toHaveLength(1);
    expect(hist.filter((e) => e.delta !== undefined)).toHaveLength(60);
    // Full copies per change would be 60 x size; deltas keep it to one copy plus small entries.
    expect(histBytes(h, "entities_hist")).toBeLessThan(size + 60 * 1_000);
    for (const version of [0, 1, 30, 59, 60, -1]) {
      const got = (await h.must("alice", "getdocumentversion", { collectionname: "entities", id: doc._id, version })).result as AnyDoc;
      expect(got.n).toBe(version < 0 ? 60 : version);
      expect((got.blob as string).length).toBe(400_000);
    }
    // A change inside an array is a delta too, and rebuilt.
    await h.must("alice", "updateone", { collectionname: "entities", query: { _id: doc._id }, item: { $set: { "list.5.v": -5 } } });
    const v60 = (await h.must("alice", "getdocumentversion", { collectionname: "entities", id: doc._id, version: 60 })).result as AnyDoc;
    expect((v60.list as AnyDoc[])[5]?.v).toBe(5);
    // Bob cannot read the document, nor its old versions.
    expect((await h.must("bob", "getdocumentversion", { collectionname: "entities", id: doc._id, version: 3 })).result).toBeNull();
  });

  it("full copies every limits.historyFullEvery versions; versions above limits.historyMaxDocumentBytes are not kept and history restarts from a full copy", async () => {
    const h = await inProcess(["admin", "alice", "bob"], { limits: { historyFullEvery: 10, historyMaxDocumentBytes: 50_000 } });
    const doc = (await h.must("alice", "insertone", { collectionname: "data", item: { n: 0 } })).result as AnyDoc;
    for (let i = 0; i < 25; i++) await h.must("alice", "updateone", { collectionname: "data", query: { _id: doc._id }, item: { $inc: { n: 1 } } });
    expect(h.server.store.all("data_hist").filter((e) => e.item !== undefined).map((e) => e._version)).toEqual([0, 10, 20]);
    await h.must("alice", "updateone", { collectionname: "data", query: { _id: doc._id }, item: { $set: { pad: "p".repeat(60_000) } } });
    await h.must("alice", "updateone", { collectionname: "data", query: { _id: doc._id }, item: { $unset: { pad: 1 } } });
    const before = h.server.store.all("data_hist").length;
    await h.must("alice", "updateone", { collectionname: "data", query: { _id: doc._id }, item: { $inc: { n: 1 } } });
    const after = h.server.store.all("data_hist");
    expect(after.length - before).toBe(2); // a full copy (the chain had a gap) and the delta
    expect((await h.must("alice", "getdocumentversion", { collectionname: "data", id: doc._id, version: 27 })).result).toMatchObject({ n: 25 });
    expect((await h.must("alice", "getdocumentversion", { collectionname: "data", id: doc._id, version: 12 })).result).toMatchObject({ n: 12 });
  });

  it("a user's stored bytes are capped by limits.maxStoredBytesPerUser (history included); another user still writes", async () => {
    const s = await server({ limits: { maxStoredBytes: 400_000 } });
    expect(s.context.options.limits.maxStoredBytesPerUser).toBe(100_000);
    const mallory = await signedIn(s.url, "mallory");
    let refusal = "";
    for (let i = 0; i < 20 && !refusal; i++) {
      const r = await mallory.request("insertone", { collectionname: "entities", item: { blob: "m".repeat(10_000) } });
      if (r.command === "error") refusal = errorOf(r);
    }
    expect(refusal).toMatch(/storage quota exceeded: .*\(limits\.maxStoredBytesPerUser 100000\)/);
    const malloryId = [...s.context.connections].find((c) => c.user?.username === "mallory")?.user?._id as string;
    expect(s.context.store.storedBytes(malloryId)).toBeLessThanOrEqual(100_000);
    // Deleting frees the quota.
    const mine = await mallory.request("query", { collectionname: "entities", query: {}, projection: { _id: 1 } });
    await mallory.request("deleteone", { collectionname: "entities", id: mine.payload.result[0]._id });
    const alice = await signedIn(s.url, "alice");
    expect((await alice.request("insertone", { collectionname: "entities", item: { blob: "a".repeat(10_000) } })).command).toBe("insertone");
    await stillServes(s.url, alice);
  });
});
