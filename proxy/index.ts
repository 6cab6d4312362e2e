/** Public API of the recording proxy (`openflow-spec proxy`). */
export { startProxy, type ProxyOptions, type RunningProxy, type ProxyConnectionInfo, type ProxyLogger, type CaptureSink } from "./proxy.js";
export { Pipe, closeWith, type CloseInfo, type PipeOptions, type PipeStats, type Side } from "./pipe.js";
export { MemoryBudget, type BudgetStats } from "./budget.js";
export { checkClientHandshake, upstreamTarget, parseSubprotocols, isRefusal, type Refusal, type ClientHandshake } from "./handshake.js";
