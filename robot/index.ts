/**
 * `openflow-spec-tools/robot`: a fake OpenRPA robot that answers invokes from a script, for testing flows and apps
 * that invoke robots without Windows (docs/robots.md).
 */
export { startRobot, type FakeRobot, type RobotEvent, type RobotOptions } from "./fake-robot.js";
export { parseWorkflows, parseWorkflowsText, WorkflowsFileError, WORKFLOW_OUTCOMES, type ScriptedWorkflow, type WorkflowOutcome, type WorkflowsFile } from "./workflows.js";
