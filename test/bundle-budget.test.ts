/**
 * Size budget of the browser client, as an app bundles it: esbuild, minified, no code splitting, a browser app that
 * connects and calls three commands. The validators (generated/validators.js, about 1.5 MB) must not be in it: they
 * are reachable only from the validation entry (runtime/validate.ts = `openflow-spec/validation`), which the second
 * bundle imports on purpose to show the split is real.
 */
import { gzipSync } from "node:zlib";
import { build, type Metafile } from "esbuild";
import { describe, expect, it } from "vitest";
import { ROOT } from "./fixtures/generator/helpers.js";

const BUDGET_BYTES = 60 * 1024;

const app = (withValidation: boolean): string => `
import { connect } from "./runtime/index.ts";
${withValidation ? 'import { validators } from "./runtime/validate.ts";' : ""}
const client = await connect("ws://127.0.0.1:3000/", { username: "demo", password: "demo-password"${withValidation ? ', validation: "strict", validators' : ""} });
await client.insertOne({ collectionname: "entities", item: { _type: "note", name: "hello" } });
const found = await client.query({ collectionname: "entities", query: { _type: "note" } });
const n = await client.count({ collectionname: "entities", query: {} });
console.log(found.result, n.result);
client.close();
`;

const robotsApp = `
import { connect } from "./runtime/robots.ts";
const client = await connect("ws://127.0.0.1:3000/", { username: "demo", password: "demo-password" });
console.log(await client.rpc("pricing", { qty: 1 }), await client.invokeRobot("robot-id", "approve-invoice", { invoice: "INV-1" }));
client.close();
`;

async function bundle(withValidation: boolean): Promise<{ bytes: number; gzip: number; inputs: string[] }> {
  const result = await build({
    stdin: { contents: app(withValidation), resolveDir: ROOT, loader: "ts", sourcefile: "app.ts" },
    bundle: true,
    minify: true,
    splitting: false,
    platform: "browser",
    format: "esm",
    target: "es2022",
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  const out = result.outputFiles[0]?.contents ?? new Uint8Array();
  const meta = result.metafile as Metafile;
  return { bytes: out.byteLength, gzip: gzipSync(out).byteLength, inputs: Object.keys(meta.inputs) };
}

describe("browser bundle budget", () => {
  it(`a minified app that connects and calls three commands is at most ${BUDGET_BYTES / 1024} KB, without the validators`, async () => {
    const plain = await bundle(false);
    const validating = await bundle(true);
    console.log(
      `browser app bundle: ${(plain.bytes / 1024).toFixed(1)} KB minified, ${(plain.gzip / 1024).toFixed(1)} KB gzip` +
        ` (with openflow-spec/validation: ${(validating.bytes / 1024).toFixed(0)} KB, ${(validating.gzip / 1024).toFixed(0)} KB gzip)`,
    );
    expect(plain.inputs.some((f) => f.endsWith("generated/validators.js"))).toBe(false);
    // ws is imported lazily and only in Node; a browser bundle gets its browser stub at most.
    expect(plain.inputs.filter((f) => /(^|\/)node_modules\/ws\//.test(f) && !f.endsWith("ws/browser.js"))).toEqual([]);
    expect(plain.bytes).toBeLessThanOrEqual(BUDGET_BYTES);
    // rpc and invokeRobot live behind openflow-spec/robots: not in an app that does not import them, and an app that
    // does stays within the budget too.
    expect(plain.inputs.filter((f) => /runtime\/(rpc|robots)\.ts$/.test(f))).toEqual([]);
    const robots = await build({
      stdin: { contents: robotsApp, resolveDir: ROOT, loader: "ts", sourcefile: "robots-app.ts" },
      bundle: true, minify: true, splitting: false, platform: "browser", format: "esm", target: "es2022", write: false, logLevel: "silent",
    });
    const robotsBytes = robots.outputFiles[0]?.contents.byteLength ?? 0;
    console.log(`browser app with openflow-spec/robots: ${(robotsBytes / 1024).toFixed(1)} KB minified`);
    expect(robotsBytes).toBeGreaterThan(plain.bytes);
    expect(robotsBytes).toBeLessThanOrEqual(BUDGET_BYTES);
    // The validation entry brings them in: the split above is what keeps them out.
    expect(validating.inputs.some((f) => f.endsWith("generated/validators.js"))).toBe(true);
    expect(validating.bytes).toBeGreaterThan(plain.bytes * 5);
  });
});
