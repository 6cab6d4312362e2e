/**
 * The six reference implementations a command file's marks and source links name, with the upstream repository
 * and the commit each was read at. The meta-schema of a schemas directory pins them (the URL pattern of each
 * `x-openflow.sources.<label>` item): `pinsFromMetaSchema` reads them from there, so the tools check a schemas
 * directory against its own pins; PINS are this repository's (test/sources.test.ts checks the two agree).
 */

export const IMPLEMENTATION_LABELS = ["api-2021", "api-latest", "server-2021", "server-latest", "openrpa-2021", "openrpa-latest"] as const;

export type ImplementationLabel = (typeof IMPLEMENTATION_LABELS)[number];

/**
 * Every label a link may belong to: the six implementations, and the two repositories the protobuf migration map
 * (`x-openflow.protobuf.sources`) cites besides server-latest: openiap/proto (the proto files) and openiap/nodeapi
 * (its command-to-message lookup), at the versions server-latest's @openiap/nodeapi 0.0.38 pins.
 */
export const SOURCE_LABELS = [...IMPLEMENTATION_LABELS, "openiap-proto", "openiap-nodeapi"] as const;

export type SourceLabel = (typeof SOURCE_LABELS)[number];

export interface Pin {
  /** GitHub repository, `open-rpa/openflow`. */
  readonly repo: string;
  /** The 40-hex commit every link of the label points at. */
  readonly commit: string;
}

export const PINS: Readonly<Record<SourceLabel, Pin>> = {
  "api-2021": { repo: "open-rpa/openflow-api", commit: "fa4064e57dec0cd1a8c30ed0de46ade0580ec065" },
  "api-latest": { repo: "open-rpa/openflow-api", commit: "a1c80a7a41fbd6678c6ebf55e52bb4a734ccb513" },
  "server-2021": { repo: "open-rpa/openflow", commit: "78a29b8d6c5a85c992390826db9d5d05e17dd820" },
  "server-latest": { repo: "open-rpa/openflow", commit: "d9a48a2a2facbee4efa67b87f6573ce1852a0c3b" },
  "openrpa-2021": { repo: "open-rpa/openrpa", commit: "5d3235727286e46dc7fecb77cb68e76356b12811" },
  "openrpa-latest": { repo: "open-rpa/openrpa", commit: "f6c2d71b49d2fb374dc0402b9d8de7d1132fba8c" },
  "openiap-proto": { repo: "openiap/proto", commit: "537c781eaef53642dd032e3f64638f71173b7528" },
  "openiap-nodeapi": { repo: "openiap/nodeapi", commit: "440fbc6f26e678f95b08c731192f96eda9697c90" },
};

export function isImplementationLabel(value: string): value is ImplementationLabel {
  return (IMPLEMENTATION_LABELS as readonly string[]).includes(value);
}

export function isSourceLabel(value: string): value is SourceLabel {
  return (SOURCE_LABELS as readonly string[]).includes(value);
}

export type Pins = Readonly<Record<SourceLabel, Pin>>;

/** The label whose repository and commit a link points at, or undefined (a commit no label pins). */
export function labelOf(repo: string, commit: string, pins: Pins = PINS): SourceLabel | undefined {
  return SOURCE_LABELS.find((l) => pins[l].repo === repo && pins[l].commit === commit);
}

const PATTERN_RE = /github\\\.com\/([^/\\]+\/[^/\\]+)\/blob\/([0-9a-f]{40})\//;

/**
 * The pins a command meta-schema states: for each label, the repository and commit in the URL pattern of
 * `sources.<label>.items.properties.url.pattern`. Labels the meta-schema does not pin keep `fallback`'s.
 */
export function pinsFromMetaSchema(meta: unknown, fallback: Pins = PINS): Pins {
  const found: Partial<Record<ImplementationLabel, Pin>> = {};
  const visit = (node: unknown, depth: number): void => {
    if (depth > 20 || typeof node !== "object" || node === null) return;
    for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
      if (isImplementationLabel(key) && found[key] === undefined) {
        const pattern = (value as { items?: { properties?: { url?: { pattern?: unknown } } } } | null)?.items?.properties?.url?.pattern;
        const m = typeof pattern === "string" ? PATTERN_RE.exec(pattern) : null;
        if (m) found[key] = { repo: m[1] as string, commit: m[2] as string };
      }
      visit(value, depth + 1);
    }
  };
  visit(meta, 0);
  return Object.fromEntries(SOURCE_LABELS.map((l) => [l, (isImplementationLabel(l) ? found[l] : undefined) ?? fallback[l]])) as Pins;
}
