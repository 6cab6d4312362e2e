import { describe, expect, it } from "vitest";
import { camelCase, handlerName, methodName, pascalCase, segment, typeNameFromTitle } from "../generator/naming.js";

describe("naming table", () => {
  const cases: [string, { given: string; want: string }][] = [
    ["compound upsert", { given: "insertorupdateone", want: "insertOrUpdateOne" }],
    ["upsert many", { given: "insertorupdatemany", want: "insertOrUpdateMany" }],
    ["document version", { given: "getdocumentversion", want: "getDocumentVersion" }],
    ["queue", { given: "registerqueue", want: "registerQueue" }],
    ["workitem is one word", { given: "popworkitem", want: "popWorkitem" }],
    ["workitems plural", { given: "addworkitems", want: "addWorkitems" }],
    ["workitem queue", { given: "updateworkitemqueue", want: "updateWorkitemQueue" }],
    ["nodered is one word", { given: "getnoderedinstancelog", want: "getNoderedInstanceLog" }],
    ["kube node labels", { given: "getkubenodelabels", want: "getKubeNodeLabels" }],
    ["openrpa casing", { given: "invokeopenrpa", want: "invokeOpenRpa" }],
    ["rabbitmq", { given: "deleterabbitmqqueue", want: "deleteRabbitmqQueue" }],
    ["map reduce", { given: "mapreduce", want: "mapReduce" }],
    ["single word", { given: "query", want: "query" }],
    ["signin stays", { given: "signin", want: "signin" }],
    ["case-insensitive input", { given: "Insertorupdatemany", want: "insertOrUpdateMany" }],
    ["unknown run kept together", { given: "getfrobnicator", want: "getFrobnicator" }],
  ];
  it.each(cases)("%s", (_name, { given, want }) => {
    expect(camelCase(given)).toBe(want);
  });

  it("gives readable, unique method names for all 80 catalog commands", () => {
    const all = `addworkitem addworkitemqueue addworkitems aggregate closequeue count createcollection createindex createworkflowinstance customcommand deleteagent deleteagentpod deletemany deletenoderedinstance deletenoderedpod deleteone deletepackage deleterabbitmqqueue deleteworkitem deleteworkitemqueue distinct dropcollection dropindex dumpclients dumprabbitmq ensurecustomer ensurenoderedinstance ensurestripecustomer error exchangeclosed getagentlog getagentpods getdocumentversion getfile getindexes getkubenodelabels getnextinvoice getnoderedinstance getnoderedinstancelog getrabbitmqqueue getworkitemqueue housekeeping insertmany insertone insertorupdatemany insertorupdateone invokeopenrpa issuelicense listcollections mapreduce ping pong popworkitem pushmetrics query queueclosed queuemessage refreshtoken registerexchange registerqueue registeruser restartnoderedinstance savefile selectcustomer signin startagent startnoderedinstance stopagent stopnoderedinstance stripeaddplan stripecancelplan stripemessage unwatch updatefile updatemany updateone updateworkitem updateworkitemqueue watch watchevent`.split(" ");
    expect(all).toHaveLength(80);
    const names = all.map(methodName);
    expect(new Set(names).size).toBe(80);
    // Every command segments fully into dictionary words (no unknown run).
    for (const command of all) expect(segment(command).join(""), command).toBe(command);
    expect(names).toContain("ensureStripeCustomer");
    expect(names).toContain("stripeCancelPlan");
  });

  it("keeps every existing method name when the dictionary grows (a new word must not rename a released method)", () => {
    const pinned = `
    addworkitem:addWorkitem addworkitemqueue:addWorkitemQueue addworkitems:addWorkitems aggregate:aggregate
    closequeue:closeQueue count:count createcollection:createCollection createindex:createIndex
    createworkflowinstance:createWorkflowInstance customcommand:customCommand deleteagent:deleteAgent
    deleteagentpod:deleteAgentPod deletemany:deleteMany deletenoderedinstance:deleteNoderedInstance
    deletenoderedpod:deleteNoderedPod deleteone:deleteOne deletepackage:deletePackage
    deleterabbitmqqueue:deleteRabbitmqQueue deleteworkitem:deleteWorkitem deleteworkitemqueue:deleteWorkitemQueue
    distinct:distinct dropcollection:dropCollection dropindex:dropIndex dumpclients:dumpClients
    dumprabbitmq:dumpRabbitmq ensurecustomer:ensureCustomer ensurenoderedinstance:ensureNoderedInstance
    ensurestripecustomer:ensureStripeCustomer error:error exchangeclosed:exchangeClosed getagentlog:getAgentLog
    getagentpods:getAgentPods getdocumentversion:getDocumentVersion getfile:getFile getindexes:getIndexes
    getkubenodelabels:getKubeNodeLabels getnextinvoice:getNextInvoice getnoderedinstance:getNoderedInstance
    getnoderedinstancelog:getNoderedInstanceLog getrabbitmqqueue:getRabbitmqQueue getworkitemqueue:getWorkitemQueue
    housekeeping:housekeeping insertmany:insertMany insertone:insertOne insertorupdatemany:insertOrUpdateMany
    insertorupdateone:insertOrUpdateOne invokeopenrpa:invokeOpenRpa issuelicense:issueLicense
    listcollections:listCollections mapreduce:mapReduce ping:ping pong:pong popworkitem:popWorkitem
    pushmetrics:pushMetrics query:query queueclosed:queueClosed queuemessage:queueMessage refreshtoken:refreshToken
    registerexchange:registerExchange registerqueue:registerQueue registeruser:registerUser
    restartnoderedinstance:restartNoderedInstance savefile:saveFile selectcustomer:selectCustomer signin:signin
    startagent:startAgent startnoderedinstance:startNoderedInstance stopagent:stopAgent
    stopnoderedinstance:stopNoderedInstance stripeaddplan:stripeAddPlan stripecancelplan:stripeCancelPlan
    stripemessage:stripeMessage unwatch:unwatch updatefile:updateFile updatemany:updateMany updateone:updateOne
    updateworkitem:updateWorkitem updateworkitemqueue:updateWorkitemQueue watch:watch watchevent:watchEvent
`.trim().split(/\s+/).map((pair) => pair.split(":") as [string, string]);
    expect(pinned).toHaveLength(80);
    for (const [command, name] of pinned) expect(methodName(command), command).toBe(name);
  });

  it("names a new command predictably (docs/maintainers.md): dictionary words, unknown letters kept as one word", () => {
    expect(methodName("countbytype")).toBe("countByType");
    expect(methodName("frobnicate")).toBe("frobnicate");
    expect(methodName("getfrobnicatorlog")).toBe("getFrobnicatorLog");
    expect(handlerName("frobnicateevent")).toBe("onFrobnicateEvent");
  });

  it("keeps clear of class members and reserved words", () => {
    expect(methodName("request")).toBe("requestCommand");
    expect(methodName("constructor")).toBe("constructorCommand");
    expect(methodName("delete")).toBe("deleteCommand");
    expect(methodName("state")).toBe("stateCommand");
    expect(handlerName("command")).toBe("onCommandCommand");
    expect(handlerName("queuemessage")).toBe("onQueueMessage");
    expect(handlerName("refreshtoken")).toBe("onRefreshToken");
    expect(pascalCase("watchevent")).toBe("WatchEvent");
  });

  it("never shadows global types", () => {
    expect(typeNameFromTitle("Date")).toBe("OpenFlowDate");
    expect(typeNameFromTitle("Error")).toBe("OpenFlowError");
    expect(typeNameFromTitle("query reply")).toBe("QueryReply");
    expect(typeNameFromTitle("9lives")).toBe("T9lives");
  });
});
