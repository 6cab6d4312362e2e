/** Public API of the validator: the same checks as `openflow-spec validate`, as functions. */
export { CaptureValidator, defaultCaptureLimits, type CaptureLimits, type CaptureOptions, type CaptureStats, type PushMeta } from "./capture.js";
export { ConnectionsValidator, captureEvents, type CaptureEvent, type ConnectionsOptions, type ConnectionsStats } from "./connections.js";
export { validateFrame, validateFrameText, checkFrame } from "./frame.js";
export { validateCommandPayload, decodeMessageData, isKnownCommand, type PayloadKind } from "./payload.js";
export { findingCodes, failing, type Finding, type FindingCode, type Severity, type Direction, type Origin } from "./findings.js";
export { validateInput, type InputMode, type InputOptions, type InputSummary } from "./run.js";
export { catalogFrom, defaultCatalog, type Catalog, type CommandInfo } from "./catalog.js";
