/**
 * Class 4, "tens of thousands of watches make every insert take seconds": watches are indexed by collection
 * (a change only visits the watches of its own collection) and capped per connection.
 */
import { describe, expect, it } from "vitest";
import { closeAfterEach, errorOf, server, signedIn, stillServes, track } from "./dos-helpers.js";

closeAfterEach();
let srv: Awaited<ReturnType<typeof server>>;

describe("watches", () => {
  it("30 000 watches on other collections are never visited by an insert; their connection's close removes them all", async () => {
    // As if many connections each held their share (one connection is capped at maxWatchesPerConnection).
    srv = await server({ limits: { maxWatchesPerConnection: 50_000 } });
    const mallory = await signedIn(srv.url, "mallory");
    const alice = await signedIn(srv.url, "alice");
    const attacker = [...srv.context.connections].find((c) => c.user?.username === "mallory");
    expect(attacker).toBeDefined();
    let visited = 0;
    const counting = () => {
      visited++;
      return false;
    };
    // Added in bulk through the watch registry: 30 000 watch requests over the wire would only slow the test.
    for (let i = 0; i < 30_000; i++) srv.context.watches.add(attacker!, `noise${i % 100}`, { paths: [counting], stages: [] });
    const own = await alice.request("watch", { collectionname: "entities", paths: [] });
    expect(own.command).toBe("watch");
    expect(srv.context.watches.countOn("entities")).toBe(1);
    const write = await alice.request("insertone", { collectionname: "entities", item: { name: "x" } });
    expect(write.command).toBe("insertone");
    const event = await alice.next((f) => f.command === "watchevent");
    expect(JSON.parse(event.data ?? "{}").result.fullDocument.name).toBe("x");
    expect(visited).toBe(0);
    // A change in a watched noise collection visits exactly that collection's 300 watches.
    await mallory.request("insertone", { collectionname: "noise7", item: { name: "y" } });
    expect(visited).toBe(300);
    mallory.close();
    await mallory.closed;
    for (let i = 0; i < 100 && srv.context.watches.size > 1; i++) await new Promise((r) => setTimeout(r, 10));
    expect(srv.context.watches.size).toBe(1);
    expect(srv.context.watches.countOn("noise7")).toBe(0);
    await stillServes(srv.url, alice);
  });

  it("a watch filter that needs more than limits.maxWatchFilterWork on a change does not match it; the write and other watchers go on", async () => {
    srv = await server();
    const mallory = await signedIn(srv.url, "mallory");
    const alice = await signedIn(srv.url, "alice");
    // Each change would cost this filter 10 000 x 100 steps: inside every write to entities, for every writer.
    const heavy = { $match: { $expr: { $gt: [{ $size: { $map: { input: { $range: [0, 10_000] }, in: { $size: { $range: [0, 100] } } } } }, 0] } } };
    expect((await mallory.request("watch", { collectionname: "entities", aggregates: [heavy] })).command).toBe("watch");
    expect((await alice.request("watch", { collectionname: "entities", aggregates: [{ $match: { "fullDocument.name": "x" } }] })).command).toBe("watch");
    const write = await alice.request("insertone", { collectionname: "entities", item: { name: "x", _acl: [{ _id: "5a17f157c4815318c8536c21", rights: 65535 }] } });
    expect(write.command).toBe("insertone");
    const event = await alice.next((f) => f.command === "watchevent");
    expect(JSON.parse(event.data ?? "{}").result.fullDocument.name).toBe("x");
    // An event for mallory would have been pushed during the insert, before this round trip's reply.
    await stillServes(srv.url, mallory);
    expect(mallory.frames.filter((f) => f.command === "watchevent")).toEqual([]);
    await stillServes(srv.url, alice);
  });

  it("watch filters larger than limits.maxWatchFilterChars are refused", async () => {
    srv = await server();
    const mallory = await signedIn(srv.url, "mallory");
    const clauses = Array.from({ length: 2_000 }, (_, i) => `@.f${i} == 'v'`).join(" || ");
    const refused = await mallory.request("watch", { collectionname: "entities", paths: [`$.[?(${clauses})]`] });
    expect(errorOf(refused)).toMatch(/watch filters of \d+ characters exceed limits\.maxWatchFilterChars \(16384\)/);
    await stillServes(srv.url, mallory);
  });

  it("a connection may hold at most limits.maxWatchesPerConnection watches; unwatch frees a slot", async () => {
    srv = await server({ limits: { maxWatchesPerConnection: 3 } });
    const mallory = await signedIn(srv.url, "mallory");
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await mallory.request("watch", { collectionname: "entities", paths: [] })).payload.id);
    const refused = await mallory.request("watch", { collectionname: "entities", paths: [] });
    expect(errorOf(refused)).toMatch(/Too many watches: this connection holds 3 \(limits\.maxWatchesPerConnection\)/);
    await mallory.request("unwatch", { id: ids[0] });
    expect((await mallory.request("watch", { collectionname: "entities", paths: [] })).command).toBe("watch");
    await stillServes(srv.url);
  });
});
