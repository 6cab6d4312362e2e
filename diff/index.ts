/**
 * `openflow-spec diff` below the CLI: load two schema trees (directories or git revisions), compare them command
 * by command with each payload's direction, judge the result per side, and report it.
 */
export { rules, ruleIds, type Rule, type RuleId, type Severity, type Bump } from "./rules.js";
export { loadSource, loadDirectory, loadRevision, DiffSourceError, type SchemaTree, type SourceOptions } from "./source.js";
export { SchemaRefError } from "./schema.js";
export { diffSpecs, type Finding, type Part, type Side, type SpecDiff } from "./spec.js";
export { judge, verdict, worst, type JudgedFinding, type Outcome, type JudgeOptions } from "./outcome.js";
export { readAcknowledged, acknowledgedBy, acknowledgeAll, writeAcknowledged, AcknowledgedFileError, type Acknowledgement } from "./acknowledged.js";
export { textReport } from "./report/text.js";
export { jsonReport } from "./report/json.js";
export { junitReport } from "./report/junit.js";
export { githubReport } from "./report/github.js";
export { rulesMarkdown } from "./rules-markdown.js";
