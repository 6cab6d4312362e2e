/**
 * Root causes 2 and 3 of issue 19, and the indexes: the work inside one operator is counted before it is done
 * (`$all` against a 25 000-item array, `$in` with 300 000 values), joins are charged for every document they join,
 * a reply has a size bound, and lookups by `_id` or an indexed field (createindex) cost the matches, not the
 * collection; count/query cost does not depend on documents the caller cannot read. Assertions are on work
 * counters (querylimits.lastWork), refusals and sizes, never on wall-clock time; after each attack a second,
 * well-behaved client is served.
 */
import { describe, expect, it } from "vitest";
import { lastWork } from "../../server/querylimits.js";
import { closeAfterEach, errorOf, server, signedIn, stillServes } from "./dos-helpers.js";
import { inProcess } from "./store-harness.js";

closeAfterEach();

describe("work inside one operator is counted (root cause 2)", () => {
  it("count with $all of 25 000 values against a 25 000-item array is refused before the comparison runs", async () => {
    const s = await server();
    const alice = await signedIn(s.url, "alice");
    const big = Array.from({ length: 25_000 }, (_, i) => i);
    expect((await alice.request("insertone", { collectionname: "entities", item: { name: "big", items: big } })).command).toBe("insertone");
    const reply = await alice.request("count", { collectionname: "entities", query: { items: { $all: big.map((i) => i + 1) } } });
    expect(errorOf(reply)).toMatch(/query limit exceeded: .*limits\.maxQueryWork/);
    // The refusal came from the charge before the test: at most one budget's worth was counted.
    expect(lastWork()).toBeGreaterThan(s.context.options.limits.maxQueryWork);
    // A small $all on the same array is fine and counted by the items walked.
    const small = await alice.request("count", { collectionname: "entities", query: { items: { $all: [1, 2] } } });
    expect(small.payload.result).toBe(1);
    expect(lastWork()).toBeLessThanOrEqual(1 + 2 * 25_000 + 10);
    await stillServes(s.url);
  });

  it("$in with 300 000 values is refused before it is walked; with 100 000 over 255 documents it costs the documents' items, not the list; $expr $in over a huge literal is refused", async () => {
    const s = await server();
    const alice = await signedIn(s.url, "alice");
    const items = Array.from({ length: 255 }, (_, i) => ({ name: `d${i}`, n: i }));
    expect((await alice.request("insertmany", { collectionname: "entities", items, skipresults: true })).command).toBe("insertmany");
    // 300 000 values: refused by the operand bound before anything walks the list.
    const huge = Array.from({ length: 300_000 }, (_, i) => i * 2);
    expect(errorOf(await alice.request("count", { collectionname: "entities", query: { n: { $in: huge } } }))).toMatch(/an array of 300000 items in a query.*limits\.maxExpressionItems/);
    // 100 000 values (the bound): answered, and the work is the documents' items, not the list.
    const values = huge.slice(0, 100_000);
    const reply = await alice.request("count", { collectionname: "entities", query: { n: { $in: values } } });
    expect(reply.payload.result).toBe(128);
    expect(lastWork()).toBeLessThan(255 * 4);
    const nin = await alice.request("count", { collectionname: "entities", query: { n: { $nin: values } } });
    expect(nin.payload.result).toBe(127);
    const expr = await alice.request("count", { collectionname: "entities", query: { $expr: { $in: ["$n", values] } } });
    expect(errorOf(expr)).toMatch(/query limit exceeded/);
    await stillServes(s.url);
  });
});

describe("joins and replies are bounded (root cause 3)", () => {
  it("a $lookup self-join over 1000 documents is refused by the join count, sent 4 times at once; a second client is served", async () => {
    const s = await server();
    const alice = await signedIn(s.url, "alice");
    const items = Array.from({ length: 1000 }, (_, i) => ({ name: `d${i}`, k: 1 }));
    expect((await alice.request("insertmany", { collectionname: "entities", items, skipresults: true })).command).toBe("insertmany");
    const join = { collectionname: "entities", aggregates: [{ $lookup: { from: "entities", localField: "k", foreignField: "k", as: "all" } }] };
    const replies = await Promise.all([1, 2, 3, 4].map(() => alice.request("aggregate", join)));
    for (const r of replies) expect(errorOf(r)).toMatch(/query limit exceeded/);
    const rss = process.memoryUsage().rss;
    expect(rss).toBeLessThan(2 * 1024 ** 3);
    // The same join on a few documents is answered.
    const few = await alice.request("aggregate", { ...join, aggregates: [{ $match: { name: { $in: ["d1", "d2"] } } }, { $lookup: { from: "entities", localField: "name", foreignField: "name", as: "self" } }] });
    expect(few.payload.result).toHaveLength(2);
    await stillServes(s.url);
  });

  it("a reply larger than limits.maxReplyBytes is refused with a clear error; a page under it is answered", async () => {
    const s = await server({ limits: { maxReplyBytes: 64 * 1024 } });
    const alice = await signedIn(s.url, "alice");
    const items = Array.from({ length: 100 }, (_, i) => ({ name: `d${i}`, text: "x".repeat(1000) }));
    expect((await alice.request("insertmany", { collectionname: "entities", items, skipresults: true })).command).toBe("insertmany");
    expect(errorOf(await alice.request("query", { collectionname: "entities", query: {} }))).toMatch(/reply would be larger than 65536 bytes \(limits\.maxReplyBytes\)/);
    expect(errorOf(await alice.request("aggregate", { collectionname: "entities", aggregates: [{ $match: {} }] }))).toMatch(/limits\.maxReplyBytes/);
    const page = await alice.request("query", { collectionname: "entities", query: {}, top: 20 });
    expect(page.payload.result).toHaveLength(20);
    await stillServes(s.url);
  });
});

describe("indexes: lookups do not scan, and cost ignores what the caller cannot read", () => {
  it("_id and createindex fields are looked up; without an index the same count tests every document", async () => {
    const h = await inProcess();
    const items = Array.from({ length: 3000 }, (_, i) => ({ name: `n${i}`, g: i % 10 }));
    await h.must("alice", "insertmany", { collectionname: "data", items, skipresults: true });
    const one = (await h.must("alice", "query", { collectionname: "data", query: { name: "n7" } })).result as { _id: string }[];
    expect(lastWork()).toBeGreaterThanOrEqual(3000);
    const id = one[0]?._id;
    expect((await h.must("alice", "count", { collectionname: "data", query: { _id: id } })).result).toBe(1);
    expect(lastWork()).toBeLessThanOrEqual(2);
    expect((await h.must("admin", "createindex", { collectionname: "data", index: { name: 1 } })).result).toBe("name_1");
    expect((await h.must("alice", "count", { collectionname: "data", query: { name: "n7" } })).result).toBe(1);
    expect(lastWork()).toBeLessThanOrEqual(2);
    expect((await h.must("alice", "count", { collectionname: "data", query: { name: { $in: ["n1", "n2", "zz"] }, g: { $gte: 0 } } })).result).toBe(2);
    expect(lastWork()).toBeLessThanOrEqual(10);
    // The index follows writes.
    await h.must("alice", "updateone", { collectionname: "data", query: { name: "n7" }, item: { $set: { name: "renamed" } } });
    expect((await h.must("alice", "count", { collectionname: "data", query: { name: "n7" } })).result).toBe(0);
    expect((await h.must("alice", "count", { collectionname: "data", query: { name: "renamed" } })).result).toBe(1);
    expect(((await h.must("bob", "getindexes", { collectionname: "data" })).results as unknown[]).length).toBe(2);
    // Not an admin: refused.
    expect((await h.call("bob", "createindex", { collectionname: "data", index: { g: 1 } })).ok).toBe(false);
  });

  it("count and query work is the same whether the collection holds 10 or 2000 documents the caller cannot read", async () => {
    const work: number[] = [];
    for (const hidden of [10, 2000]) {
      const h = await inProcess();
      await h.must("alice", "insertmany", { collectionname: "data", items: Array.from({ length: hidden }, (_, i) => ({ n: i })), skipresults: true });
      await h.must("bob", "insertmany", { collectionname: "data", items: Array.from({ length: 5 }, (_, i) => ({ n: i })), skipresults: true });
      expect((await h.must("bob", "count", { collectionname: "data", query: { n: { $gte: 0 } } })).result).toBe(5);
      work.push(lastWork());
      const docs = h.server.store.collection("data")?.candidates([h.users.bob!._id], undefined) ?? [];
      expect(docs).toHaveLength(5);
    }
    expect(work[0]).toBe(work[1]);
  });
});
