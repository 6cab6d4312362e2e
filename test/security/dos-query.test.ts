/**
 * Class 4, "one request stops the server": catastrophic regular expressions (query, count, deletemany, watch
 * filters, $regexMatch), expressions that materialise huge arrays or strings ($range in aggregate and in a
 * count filter, $map in $map, a string doubled in $reduce, $replaceAll), each refused by name or answered
 * quickly, with the server answering a well-behaved client afterwards.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RunningServer } from "../../server/server.js";
import type { RawPeer } from "../server-helpers.js";
import { errorOf, server, signedIn, stillServes } from "./dos-helpers.js";

// 28 a's and a mismatch: a backtracking engine tries ~2^28 ways to split them for (a+)+$ (seconds to minutes,
// the whole process frozen); RE2 answers in one pass.
const EVIL_INPUT = `${"a".repeat(28)}!`;
const EVIL = "^(a+)+$";

let srv: RunningServer;
let mallory: RawPeer;

beforeEach(async () => {
  srv = await server();
  mallory = await signedIn(srv.url, "mallory");
  const inserted = await mallory.request("insertone", { collectionname: "entities", item: { _type: "probe", name: EVIL_INPUT } });
  expect(inserted.command).toBe("insertone");
});

afterEach(async () => {
  mallory.close();
  await srv.close();
});

describe("regular expressions run in linear time (RE2)", () => {
  it("a catastrophic $regex in query, count and deletemany is answered, and matches like a regex should", async () => {
    const query = await mallory.request("query", { collectionname: "entities", query: { name: { $regex: EVIL } } });
    expect(query.command).toBe("query");
    expect(query.payload.result).toEqual([]);
    const count = await mallory.request("count", { collectionname: "entities", query: { name: { $regex: "(a|aa)+!$", $options: "i" } } });
    expect(count.payload.result).toBe(1);
    const legacy = await mallory.request("count", { collectionname: "entities", query: JSON.stringify({ name: `__REGEXP /${EVIL}/` }) });
    expect(legacy.payload.result).toBe(0);
    const inList = await mallory.request("count", { collectionname: "entities", query: JSON.stringify({ name: { $in: [`__REGEXP /${EVIL}/`, "x"] } }) });
    expect(inList.payload.result).toBe(0);
    const deleted = await mallory.request("deletemany", { collectionname: "entities", query: { name: { $not: { $regex: EVIL } }, _type: "probe" } });
    expect(deleted.payload.affectedrows).toBe(1);
    await stillServes(srv.url);
  });

  it("patterns that need backtracking (back-references, look-ahead) are refused by name", async () => {
    for (const regex of ["(a)\\1", "a(?=b)"]) {
      const reply = await mallory.request("query", { collectionname: "entities", query: { name: { $regex: regex } } });
      expect(errorOf(reply)).toMatch(/not supported by the linear-time engine \(RE2\)/);
    }
    await stillServes(srv.url);
  });

  it("a regular expression longer than limits.maxRegexChars is refused", async () => {
    const reply = await mallory.request("count", { collectionname: "entities", query: { name: { $regex: "a".repeat(9000) } } });
    expect(errorOf(reply)).toMatch(/limits\.maxRegexChars/);
    await stillServes(srv.url);
  });

  it("$regexMatch, $regexFind and $regexFindAll in aggregate run on RE2; an empty match no longer loops forever", async () => {
    const reply = await mallory.request("aggregate", {
      collectionname: "entities",
      aggregates: [
        { $match: { _type: "probe" } },
        { $project: { m: { $regexMatch: { input: "$name", regex: EVIL } }, f: { $regexFind: { input: "$name", regex: "a+!" } }, all: { $size: { $regexFindAll: { input: "$name", regex: "" } } } } },
      ],
    });
    expect(reply.command).toBe("aggregate");
    expect(reply.payload.result).toEqual([{ _id: expect.any(String), m: false, f: { match: EVIL_INPUT, idx: 0, captures: [] }, all: EVIL_INPUT.length + 1 }]);
    await stillServes(srv.url);
  });

  it("a catastrophic regex in a watch filter does not stall the writer; a matching change still arrives", async () => {
    const watch = await mallory.request("watch", { collectionname: "entities", aggregates: [{ $match: { "fullDocument.name": { $regex: EVIL } } }] });
    expect(watch.command).toBe("watch");
    const alice = await signedIn(srv.url, "alice");
    const write = await alice.request("insertone", { collectionname: "entities", item: { name: EVIL_INPUT, _acl: [{ _id: "5a17f157c4815318c8536c21", rights: 65535 }] } });
    expect(write.command).toBe("insertone");
    await alice.request("insertone", { collectionname: "entities", item: { name: "aaaa", _acl: [{ _id: "5a17f157c4815318c8536c21", rights: 65535 }] } });
    const event = await mallory.next((f) => f.command === "watchevent");
    expect(JSON.parse(event.data ?? "{}").result.fullDocument.name).toBe("aaaa");
    await stillServes(srv.url, alice);
  });

  it("an update document's $pull condition runs on RE2 too", async () => {
    const item = await mallory.request("insertone", { collectionname: "entities", item: { tags: [EVIL_INPUT, "aaa"] } });
    const reply = await mallory.request("updateone", { collectionname: "entities", query: { _id: item.payload.result._id }, item: { $pull: { tags: { $regex: EVIL } } } });
    expect(reply.command).toBe("updateone");
    expect(reply.payload.result.tags).toEqual([EVIL_INPUT]);
    await stillServes(srv.url);
  });
});

describe("expressions cannot materialise huge values or run unbounded", () => {
  it("$range of a billion items in aggregate and in a count filter is refused before it allocates", async () => {
    const agg = await mallory.request("aggregate", { collectionname: "entities", aggregates: [{ $project: { r: { $range: [0, 1_000_000_000] } } }] });
    expect(errorOf(agg)).toMatch(/query limit exceeded: \$range would produce 1000000000 items.*limits\.maxExpressionItems/);
    const count = await mallory.request("count", { collectionname: "entities", query: { $expr: { $gt: [{ $size: { $range: [0, 1_000_000_000] } }, 0] } } });
    expect(errorOf(count)).toMatch(/maxExpressionItems/);
    await stillServes(srv.url);
  });

  it("$map inside $map spends the request's work budget and fails that request only", async () => {
    const reply = await mallory.request("aggregate", {
      collectionname: "entities",
      aggregates: [{ $project: { n: { $size: { $map: { input: { $range: [0, 50_000] }, in: { $size: { $range: [0, 1_000] } } } } } } }],
    });
    // Whichever bound comes first: the work units, or on a very slow machine the wall-clock backstop.
    expect(errorOf(reply)).toMatch(/query limit exceeded: .*limits\.(maxQueryWork|maxQueryMs)/);
    await stillServes(srv.url);
  });

  it("a string doubled in $reduce and a growing $replaceAll stop at limits.maxExpressionChars", async () => {
    const doubled = await mallory.request("aggregate", {
      collectionname: "entities",
      aggregates: [{ $project: { s: { $reduce: { input: { $range: [0, 40] }, initialValue: "ab", in: { $concat: ["$$value", "$$value"] } } } } }],
    });
    expect(errorOf(doubled)).toMatch(/\$concat produced a string of \d+ characters.*limits\.maxExpressionChars/);
    const replaced = await mallory.request("aggregate", {
      collectionname: "entities",
      aggregates: [{ $project: { s: { $replaceAll: { input: "$name", find: "a", replacement: "x".repeat(1_000_000) } } } }],
    });
    expect(errorOf(replaced)).toMatch(/\$replaceAll would produce a string/);
    await stillServes(srv.url);
  });

  it("limits are per server: a smaller maxExpressionItems refuses a $range the default allows", async () => {
    const small = await server({ limits: { maxExpressionItems: 10 } });
    try {
      const peer = await signedIn(small.url, "alice");
      const ok = await peer.request("aggregate", { collectionname: "entities", aggregates: [{ $documents: [{ r: { $range: [0, 10] } }] }] });
      expect(ok.command).toBe("aggregate");
      const refused = await peer.request("aggregate", { collectionname: "entities", aggregates: [{ $documents: [{ r: { $range: [0, 11] } }] }] });
      expect(errorOf(refused)).toMatch(/would produce 11 items.*is 10/);
      await stillServes(small.url, peer);
      peer.close();
    } finally {
      await small.close();
    }
    const big = await mallory.request("aggregate", { collectionname: "entities", aggregates: [{ $documents: [{ r: { $size: { $range: [0, 11] } } }] }] });
    expect(big.payload.result).toEqual([{ r: 11 }]);
  });
});
