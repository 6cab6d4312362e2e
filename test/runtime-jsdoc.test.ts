/**
 * Hovers in an app's editor: every field of `ClientOptions` (and of the option policies it takes) has JSDoc that
 * states its default; every event of `ClientEvents` and every field of an event payload or delivery has JSDoc; and
 * no JSDoc of the runtime or the generated TypeScript (what the client package ships as .d.ts) links a relative
 * path to the docs or schemas, which the package does not ship. Read from the source with ts-morph.
 */
import { join } from "node:path";
import { Node, Project, SyntaxKind, type InterfaceDeclaration, type PropertySignature, type SourceFile } from "ts-morph";
import { describe, expect, it } from "vitest";
import { ROOT } from "./fixtures/generator/helpers.js";

const project = new Project({ tsConfigFilePath: join(ROOT, "tsconfig.json"), skipAddingFilesFromTsConfig: true });
const runtime = project.addSourceFilesAtPaths([join(ROOT, "runtime", "*.ts")]);
const generated = project.addSourceFilesAtPaths([join(ROOT, "generated", "*.ts")]);

function iface(file: string, name: string): InterfaceDeclaration {
  const found = project.getSourceFileOrThrow(join(ROOT, "runtime", file)).getInterface(name);
  if (!found) throw new Error(`runtime/${file} has no interface ${name}`);
  return found;
}

const docOf = (p: PropertySignature): string => p.getJsDocs().map((d) => d.getInnerText()).join("\n").trim();

function missing(props: PropertySignature[], needDefault: boolean): string[] {
  return props.filter((p) => (needDefault ? !/\bdefaults?\b/i.test(docOf(p)) : docOf(p) === "")).map((p) => `${p.getParentOrThrow().getKindName()} ${p.getName()} (line ${p.getStartLineNumber()})`);
}

describe("JSDoc of the client's options and events", () => {
  it("gives every ClientOptions field JSDoc with its default", () => {
    const options = iface("core.ts", "ClientOptions");
    expect(options.getProperties().length).toBeGreaterThan(20);
    expect(missing(options.getProperties(), true)).toEqual([]);
  });

  it("gives every field of the option policies JSDoc with its default", () => {
    const policies: [string, string][] = [
      ["reconnect.ts", "ReconnectPolicy"],
      ["offline.ts", "OfflinePolicy"],
      ["heartbeat.ts", "HeartbeatOptions"],
      ["ratelimit.ts", "RateLimitPolicy"],
      ["session.ts", "SigninExtras"],
      ["core.ts", "ProbeRequest"],
    ];
    expect(policies.flatMap(([file, name]) => missing(iface(file, name).getProperties(), true))).toEqual([]);
    expect(missing(iface("framing.ts", "ReassemblyLimits").getProperties(), false)).toEqual([]);
    expect(missing(iface("transport.ts", "TlsOptions").getProperties(), false)).toEqual([]);
  });

  it("documents every event and every field of an event payload", () => {
    const events = project.getSourceFileOrThrow(join(ROOT, "runtime", "core.ts")).getTypeAliasOrThrow("ClientEvents");
    const members = events.getTypeNodeOrThrow().asKindOrThrow(SyntaxKind.TypeLiteral).getProperties();
    expect(members.map((m) => m.getName()).sort()).toEqual(["error", "exchangeclosed", "queueclosed", "reconnected", "state", "tokenrefreshed"]);
    expect(missing(members, false)).toEqual([]);
    // Inline payload types of the events.
    const inline = members.flatMap((m) => m.getDescendantsOfKind(SyntaxKind.PropertySignature));
    expect(inline.length).toBeGreaterThan(0);
    expect(missing(inline, false)).toEqual([]);
    for (const [file, name] of [
      ["core.ts", "StateChange"],
      ["session.ts", "SessionState"],
      ["subscriptions.ts", "QueueDelivery"],
    ] as const) {
      expect(missing(iface(file, name).getProperties(), false), name).toEqual([]);
    }
  });

  it("links no relative docs/ or schemas/ path from the JSDoc the client package ships", () => {
    const relative = /(?<![\w/.:-])(?:\.\.\/)*(?:docs|schemas)\/[\w/-]+\.(?:md|json)(?!`)/;
    const problems: string[] = [];
    const check = (files: SourceFile[]): void => {
      for (const file of files) {
        for (const node of file.getDescendantsOfKind(SyntaxKind.JSDoc)) {
          // A path in a code span names a file (of the tools package); a bare one reads as a link.
          const text = node.getText().replace(/`[^`]*`/g, "code");
          const m = relative.exec(text);
          if (m) problems.push(`${file.getBaseName()}:${node.getStartLineNumber()}: ${m[0]}`);
        }
        void Node;
      }
    };
    check(runtime);
    check(generated);
    expect(problems).toEqual([]);
  });
});
