import { server, signedIn } from "./test/security/dos-helpers.ts";
const s = await server({ limits: { writeStallTimeoutMs: 200, maxInflightReplyBytes: 64 * 1024 }, heartbeat: { intervalMs: 50 } });
const m = await signedIn(s.url, "mallory");
await m.request("insertone", { collectionname: "entities", item: { big: "c".repeat(2 * 1024 * 1024) } });
m.pause();
for (let i = 0; i < 40; i++) m.send("query", { collectionname: "entities", query: {} });
const conn = [...s.context.connections].find((c) => c.signedIn)!;
for (let i = 0; i < 20; i++) { await new Promise(r => setTimeout(r, 100)); console.log(conn.bufferedBytes, conn.pendingRequests, conn.writeStalledFor(Date.now()), conn.closed); }
console.log(s.log.warnings);
process.exit(0);
