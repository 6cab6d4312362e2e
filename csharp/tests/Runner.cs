// Console test runner of the C# client (no NUnit in Debian's mono packages). Run by test/csharp.test.ts:
//   mono Runner.exe vectors <spec/vectors dir> <generated/vectors/examples.json>
//   mono Runner.exe reflect              (JSON: generated classes, enums, obsolete marks, error codes)
//   mono Runner.exe smoke <ws url> <user:password> <user:password>
// Prints one line per failure and a summary; exit code 0 only when everything passed.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using OpenFlowSpec;
using OpenFlowSpec.Models;

namespace OpenFlowSpec.Tests
{
    public static class Runner
    {
        private static int passed;
        private static readonly List<string> failures = new List<string>();

        public static int Main(string[] args)
        {
            Console.OutputEncoding = new UTF8Encoding(false);
            try
            {
                if (args.Length == 3 && args[0] == "vectors") Vectors(args[1], args[2]);
                else if (args.Length == 1 && args[0] == "reflect") Reflect();
                else if (args.Length == 4 && args[0] == "smoke") Smoke(args[1], args[2], args[3]).GetAwaiter().GetResult();
                else if (args.Length == 2 && args[0] == "liveness") Liveness(args[1]).GetAwaiter().GetResult();
                else
                {
                    Console.Error.WriteLine("usage: Runner.exe vectors DIR EXAMPLES | reflect | smoke URL USER:PASSWORD USER:PASSWORD | liveness URL");
                    return 2;
                }
            }
            catch (Exception e)
            {
                failures.Add("crashed: " + e);
            }
            foreach (var f in failures) Console.WriteLine("FAIL " + f);
            if (args.Length > 0 && args[0] != "reflect") Console.WriteLine("passed " + passed + ", failed " + failures.Count);
            return failures.Count == 0 ? 0 : 1;
        }

        private static readonly System.Diagnostics.Stopwatch clock = System.Diagnostics.Stopwatch.StartNew();

        private static void Check(bool condition, string name, string detail)
        {
            if (name.StartsWith("smoke/", StringComparison.Ordinal)) Console.WriteLine("[" + clock.ElapsedMilliseconds + " ms] " + name);
            if (condition) passed++;
            else failures.Add(name + ": " + detail);
        }

        private static JToken Load(string path)
        {
            return WireJson.Parse(File.ReadAllText(path, Encoding.UTF8));
        }

        private static string Show(JToken t)
        {
            return t == null ? "(absent)" : t.ToString(Formatting.None);
        }

        /// <summary>JSON equality with absent == null members dropped, numbers by value (vectors README).</summary>
        public static bool WireEqual(JToken a, JToken b)
        {
            a = DropNulls(a);
            b = DropNulls(b);
            return Same(a, b);
        }

        private static JToken DropNulls(JToken t)
        {
            if (t == null) return new JValue((object)null);
            if (t.Type == JTokenType.Object)
            {
                var o = new JObject();
                foreach (var p in ((JObject)t).Properties())
                {
                    var v = p.Value as JValue;
                    if (p.Value.Type == JTokenType.Null || (v != null && v.Value == null)) continue;
                    o[p.Name] = DropNulls(p.Value);
                }
                return o;
            }
            if (t.Type == JTokenType.Array) return new JArray(((JArray)t).Select(DropNulls));
            return t;
        }

        private static bool Same(JToken a, JToken b)
        {
            var numeric = new[] { JTokenType.Integer, JTokenType.Float };
            if (numeric.Contains(a.Type) && numeric.Contains(b.Type)) return a.Value<double>() == b.Value<double>();
            if (a.Type != b.Type) return false;
            if (a.Type == JTokenType.Object)
            {
                var ao = (JObject)a;
                var bo = (JObject)b;
                if (ao.Count != bo.Count) return false;
                foreach (var p in ao.Properties())
                {
                    var other = bo[p.Name];
                    if (other == null || !Same(p.Value, other)) return false;
                }
                return true;
            }
            if (a.Type == JTokenType.Array)
            {
                var aa = (JArray)a;
                var ba = (JArray)b;
                if (aa.Count != ba.Count) return false;
                for (var i = 0; i < aa.Count; i++) if (!Same(aa[i], ba[i])) return false;
                return true;
            }
            return JToken.DeepEquals(a, b);
        }

        private static string Str(JToken t, string key)
        {
            var v = t[key];
            return v == null || v.Type == JTokenType.Null ? null : (string)v;
        }

        private static WireFrame FrameOf(JToken t)
        {
            // Through the parser, as a receiver would meet it.
            return Framing.ParseFrame(t.ToString(Formatting.None));
        }

        private static JObject FrameJson(WireFrame f)
        {
            return (JObject)WireJson.Parse(Framing.FrameText(f));
        }

        private static JObject MessageJson(WireMessage m)
        {
            var o = new JObject();
            o["id"] = m.Id;
            if (m.ReplyTo != null) o["replyto"] = m.ReplyTo;
            o["command"] = m.Command;
            if (m.Data != null) o["data"] = m.Data;
            return o;
        }

        private static void Vectors(string dir, string examplesPath)
        {
            foreach (var c in Load(Path.Combine(dir, "chunking.json"))["cases"])
            {
                var pieces = Framing.ChunkString((string)c["text"], (int)c["size"]);
                Check(JToken.DeepEquals(new JArray(pieces), c["pieces"]), "chunking/" + c["name"], Show(new JArray(pieces)));
            }
            foreach (var c in Load(Path.Combine(dir, "package-size.json"))["cases"])
            {
                var size = Framing.ChunkSizeFrom(c["announced"], (int)c["current"]);
                Check(size == (int)c["expect"], "package-size/" + c["name"], size.ToString());
            }
            foreach (var c in Load(Path.Combine(dir, "framing.json"))["cases"])
            {
                var m = c["message"];
                var message = new WireMessage { Id = Str(m, "id"), ReplyTo = Str(m, "replyto"), Command = Str(m, "command"), Data = Str(m, "data"), Priority = m["priority"], TraceId = Str(m, "traceId"), SpanId = Str(m, "spanId") };
                var frames = new JArray(Framing.EncodeMessage(message, (int)c["chunkSize"]).Select(FrameJson));
                Check(Same(frames, c["frames"]), "framing/" + c["name"], Show(frames));
            }
            foreach (var c in Load(Path.Combine(dir, "parse.json"))["cases"])
            {
                var name = "parse/" + c["name"];
                var expect = c["expect"];
                try
                {
                    var f = Framing.ParseFrame((string)c["text"]);
                    var got = new JObject { ["id"] = f.Id, ["replyto"] = f.ReplyTo, ["command"] = f.Command, ["data"] = f.Data, ["count"] = f.Count, ["index"] = f.Index };
                    Check(expect["frame"] != null && WireEqual(got, expect["frame"]), name, Show(got));
                }
                catch (OpenFlowException e)
                {
                    Check(expect["error"] != null && e.WireCode == (string)expect["error"]["code"] && (e.Pointer ?? "") == (string)expect["error"]["pointer"], name, e.WireCode + " " + e.Pointer + " " + e.Message);
                }
            }
            foreach (var c in Load(Path.Combine(dir, "reassembly.json"))["cases"])
            {
                var limits = new ReassemblyLimits();
                var l = c["limits"];
                if (l != null)
                {
                    if (l["maxMessageChars"] != null) limits.MaxMessageChars = (long)l["maxMessageChars"];
                    if (l["maxChunks"] != null) limits.MaxChunks = (long)l["maxChunks"];
                    if (l["maxPartialMessages"] != null) limits.MaxPartialMessages = (int)l["maxPartialMessages"];
                }
                var r = new Reassembler(limits);
                var step = 0;
                foreach (var s in c["steps"])
                {
                    var name = "reassembly/" + c["name"] + " step " + (++step);
                    var expect = s["expect"];
                    try
                    {
                        var m = r.Push(FrameOf(s["frame"]), DateTime.UtcNow);
                        if (expect.Type == JTokenType.String) Check(m == null, name, "completed early: " + (m == null ? "" : Show(MessageJson(m))));
                        else Check(m != null && expect["message"] != null && WireEqual(MessageJson(m), expect["message"]), name, m == null ? "still pending" : Show(MessageJson(m)));
                    }
                    catch (OpenFlowException e)
                    {
                        Check(expect.Type == JTokenType.Object && expect["error"] != null && e.WireCode == (string)expect["error"]["code"] && e.Reason == (string)expect["error"]["reason"], name, e.WireCode + " " + e.Reason + " " + e.Message);
                    }
                }
            }
            foreach (var c in Load(Path.Combine(dir, "correlation.json"))["cases"])
            {
                var correlator = new Correlator();
                var tasks = new Dictionary<string, Task<JToken>>();
                foreach (var p in c["pending"]) tasks[(string)p["id"]] = correlator.Track((string)p["id"], (string)p["command"]);
                var step = 0;
                foreach (var reply in c["replies"])
                {
                    var name = "correlation/" + c["name"] + " reply " + (++step);
                    var m = reply["message"];
                    var before = tasks.Where(t => !t.Value.IsCompleted).Select(t => t.Key).ToList();
                    var matched = correlator.Reply(new WireMessage { Id = Str(m, "id"), ReplyTo = Str(m, "replyto"), Command = Str(m, "command"), Data = Str(m, "data") });
                    SpinWait.SpinUntil(() => before.Count(id => tasks[id].IsCompleted) > 0, matched ? 2000 : 0);
                    var settled = before.FirstOrDefault(id => tasks[id].IsCompleted);
                    var expect = reply["expect"];
                    var want = Str(expect, "settles");
                    Check(matched == (want != null) && settled == want, name, "settled " + (settled ?? "nothing"));
                    if (settled == null || settled != want) continue;
                    var task = tasks[settled];
                    if ((bool)expect["ok"])
                    {
                        Check(task.Status == TaskStatus.RanToCompletion && JToken.DeepEquals(task.Result, expect["payload"]), name, task.IsFaulted ? task.Exception.InnerException.Message : Show(task.Result));
                    }
                    else
                    {
                        var e = task.IsFaulted ? task.Exception.InnerException as OpenFlowException : null;
                        Check(e != null && e.WireCode == (string)expect["code"] && e.ServerMessage == Str(expect, "serverMessage"), name, e == null ? "did not fail" : e.WireCode + " " + e.ServerMessage);
                    }
                }
            }
            Examples(examplesPath);
        }

        private static void Examples(string path)
        {
            var models = typeof(QueryRequest).Assembly;
            foreach (var c in Load(path)["cases"])
            {
                var name = "examples/" + c["name"];
                RoundTrip(models, name + " request", (string)c["requestType"], c["request"]);
                var data = WireJson.Serialize(c["request"]);
                var r = new Reassembler();
                WireMessage joined = null;
                foreach (var f in Framing.EncodeMessage(new WireMessage { Id = "vreq", Command = (string)c["command"], Data = data }, 100))
                {
                    joined = r.Push(Framing.ParseFrame(Framing.FrameText(f)), DateTime.UtcNow) ?? joined;
                }
                Check(joined != null && JToken.DeepEquals(WireJson.Parse(joined.Data), c["request"]), name + " framing", joined == null ? "incomplete" : joined.Data);
                if (c["replyOutcome"].Type == JTokenType.Null) continue;
                RoundTrip(models, name + " reply", (string)c["replyType"], c["reply"]);
                var correlator = new Correlator();
                var task = correlator.Track("vreq", (string)c["command"]);
                correlator.Reply(new WireMessage { Id = "vrep", ReplyTo = "vreq", Command = (string)c["replyCommand"], Data = WireJson.Serialize(c["reply"]) });
                SpinWait.SpinUntil(() => task.IsCompleted, 2000);
                if ((string)c["replyOutcome"] == "ok") Check(task.Status == TaskStatus.RanToCompletion && JToken.DeepEquals(task.Result, c["reply"]), name + " reply outcome", task.IsFaulted ? task.Exception.InnerException.Message : "not ok");
                else
                {
                    var e = task.IsFaulted ? task.Exception.InnerException as OpenFlowException : null;
                    Check(e != null && e.Code != OpenFlowErrorCode.Protocol, name + " reply outcome", e == null ? "did not fail" : e.WireCode);
                }
            }
        }

        private static void RoundTrip(Assembly models, string name, string typeName, JToken payload)
        {
            var type = models.GetType("OpenFlowSpec.Models." + typeName);
            if (type == null)
            {
                Check(false, name, "no generated class " + typeName);
                return;
            }
            if (payload.Type != JTokenType.Object)
            {
                // A payload that is not an object (the plain-text `error` a client peer sends) has no class to go through.
                Check(type.IsClass, name + " typed class", typeName);
                return;
            }
            try
            {
                var typed = payload.ToObject(type, WireJson.Serializer);
                var back = WireJson.Parse(WireJson.Serialize(typed));
                Check(WireEqual(back, payload), name + " typed round trip", Show(back) + " != " + Show(payload));
            }
            catch (JsonException e)
            {
                Check(false, name + " typed round trip", e.Message);
            }
        }

        private static bool IsObsolete(MemberInfo m)
        {
            return m.GetCustomAttributes(typeof(ObsoleteAttribute), false).Length > 0;
        }

        /// <summary>What the compiled assembly holds, for the TypeScript test to compare with the spec.</summary>
        private static void Reflect()
        {
            var models = typeof(QueryRequest).Assembly.GetTypes().Where(t => t.Namespace == "OpenFlowSpec.Models").OrderBy(t => t.Name, StringComparer.Ordinal);
            var methods = typeof(OpenFlowCommands).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly).OrderBy(m => m.Name, StringComparer.Ordinal);
            var o = new JObject
            {
                ["types"] = new JArray(models.Select(t => new JObject
                {
                    ["name"] = t.Name,
                    ["kind"] = t.IsEnum ? "enum" : "class",
                    ["anonymous"] = t.Name.Contains("<") || t.Name.StartsWith("Anonymous", StringComparison.OrdinalIgnoreCase) || t.IsNested,
                    ["obsolete"] = IsObsolete(t),
                    ["base"] = t.BaseType != null && t.BaseType.Namespace == "OpenFlowSpec.Models" ? t.BaseType.Name : null,
                    ["wireNames"] = new JArray(t.GetProperties(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
                        .Select(p => p.GetCustomAttributes(typeof(JsonPropertyAttribute), false).Cast<JsonPropertyAttribute>().Select(a => a.PropertyName).FirstOrDefault())
                        .Where(n => n != null)),
                })),
                ["methods"] = new JArray(methods.Select(m => new JObject { ["name"] = m.Name, ["obsolete"] = IsObsolete(m) })),
                ["errorCodes"] = new JArray(OpenFlowException.AllWireCodes),
                ["errorCodeNames"] = new JArray(Enum.GetNames(typeof(OpenFlowErrorCode))),
            };
            Console.WriteLine(o.ToString(Formatting.None));
        }

        private static async Task<T> Within<T>(Task<T> task, string what)
        {
            if (await Task.WhenAny(task, Task.Delay(10000)).ConfigureAwait(false) != task) throw new TimeoutException(what + ": nothing within 10 s");
            return await task.ConfigureAwait(false);
        }

        private static OpenFlowClientOptions Options(string userPassword)
        {
            var i = userPassword.IndexOf(':');
            return new OpenFlowClientOptions { Username = userPassword.Substring(0, i), Password = userPassword.Substring(i + 1), RequestTimeout = TimeSpan.FromSeconds(10), PingInterval = TimeSpan.FromSeconds(1) };
        }

        /// <summary>Against a peer that answers signin and then goes silent: the liveness probe must declare it dead.</summary>
        private static async Task Liveness(string url)
        {
            var options = new OpenFlowClientOptions { Username = "u", Password = "p", IdleTimeout = TimeSpan.FromMilliseconds(300), ProbeTimeout = TimeSpan.FromMilliseconds(300), PingInterval = TimeSpan.FromSeconds(60) };
            var client = await OpenFlowClient.ConnectAsync(new Uri(url), options).ConfigureAwait(false);
            var closed = new TaskCompletionSource<OpenFlowException>();
            client.Closed += e => closed.TrySetResult(e);
            var pending = client.RequestAsync("query", new JObject { ["collectionname"] = "entities", ["query"] = new JObject() });
            var reason = await Within(closed.Task, "closed").ConfigureAwait(false);
            Check(reason.Code == OpenFlowErrorCode.Closed && reason.Message.Contains("dead"), "liveness/closed", reason.WireCode + " " + reason.Message);
            try
            {
                await pending.ConfigureAwait(false);
                Check(false, "liveness/pending request", "answered");
            }
            catch (OpenFlowException e)
            {
                Check(e.Code == OpenFlowErrorCode.Closed, "liveness/pending request", e.WireCode + " " + e.Message);
            }
            client.Dispose();
        }

        /// <summary>Against a running serve: sign-in, insert, query, a queue round trip between two clients, a watch.</summary>
        private static async Task Smoke(string url, string first, string second)
        {
            var admin = await OpenFlowClient.ConnectAsync(new Uri(url), Options(first)).ConfigureAwait(false);
            var robot = await OpenFlowClient.ConnectAsync(new Uri(url), Options(second)).ConfigureAwait(false);
            Check(!string.IsNullOrEmpty(admin.Jwt) && admin.User != null && admin.User.Name != null, "smoke/signin", "no jwt or user");
            Check(admin.ChunkSize >= Framing.MinChunkSize, "smoke/package size", admin.ChunkSize.ToString());
            var firstJwt = admin.Jwt;
            var refreshed = new TaskCompletionSource<string>();
            admin.TokenRefreshed += token => refreshed.TrySetResult(token);

            try
            {
                await OpenFlowClient.ConnectAsync(new Uri(url), new OpenFlowClientOptions { Username = "nobody", Password = "wrong" }).ConfigureAwait(false);
                Check(false, "smoke/bad signin", "signed in");
            }
            catch (OpenFlowException e)
            {
                Check(e.Code == OpenFlowErrorCode.Auth, "smoke/bad signin", e.WireCode + " " + e.Message);
            }

            // Watch first, so the insert below produces an event.
            var watchEvent = new TaskCompletionSource<WatchEventRequest>();
            using (admin.OnWatchEvent(ev => watchEvent.TrySetResult(ev)))
            {
                var watch = await admin.WatchAsync(new WatchRequest { Collectionname = "entities", Aggregates = new JArray() }).ConfigureAwait(false);
                var watchId = watch.Id ?? watch.Result;
                Check(!string.IsNullOrEmpty(watchId), "smoke/watch", "no watch id");

                var text = "csharp \u00e9\u4e2d\U0001F600 " + new string('x', 3000);
                var inserted = await admin.InsertOneAsync(new InsertOneRequest { Collectionname = "entities", Item = new JObject { ["_type"] = "csharp", ["name"] = text, ["n"] = 1 } }).ConfigureAwait(false);
                Check(inserted.Result != null && !string.IsNullOrEmpty(inserted.Result.Id), "smoke/insertone", "no _id");

                var ev = await Within(watchEvent.Task, "watchevent").ConfigureAwait(false);
                Check(ev.Result != null && ev.Result.FullDocument != null && ev.Result.FullDocument.Name == text, "smoke/watchevent", ev.Result == null ? "no result" : JsonConvert.SerializeObject(ev.Result).Substring(0, 80));
                await admin.UnwatchAsync(new UnWatchRequest { Id = watchId }).ConfigureAwait(false);
            }

            var found = await admin.QueryAsync(new QueryRequest { Collectionname = "entities", Query = new JObject { ["_type"] = "csharp" }, Top = 10 }).ConfigureAwait(false);
            Check(found.Result != null && found.Result.Count == 1 && found.Result[0].Name.StartsWith("csharp \u00e9\u4e2d\U0001F600 ") && found.Result[0].Name.Length == 3012, "smoke/query (chunked reply, Unicode)", found.Result == null ? "no result" : found.Result.Count + " documents");
            var hidden = await robot.QueryAsync(new QueryRequest { Collectionname = "entities", Query = new JObject { ["_type"] = "csharp" } }).ConfigureAwait(false);
            Check(hidden.Result != null && hidden.Result.Count == 0, "smoke/query as another user (ACL)", hidden.Result == null ? "no result" : hidden.Result.Count + " documents");

            try
            {
                await admin.RequestAsync("nosuchcommand", new JObject()).ConfigureAwait(false);
                Check(false, "smoke/unknown command", "succeeded");
            }
            catch (OpenFlowException e)
            {
                Check(e.Code == OpenFlowErrorCode.Unsupported, "smoke/unknown command", e.WireCode + " " + e.Message);
            }

            using (var cancel = new CancellationTokenSource())
            {
                cancel.Cancel();
                try
                {
                    await admin.CountAsync(new CountRequest { Collectionname = "entities", Query = new JObject() }, cancel.Token).ConfigureAwait(false);
                    Check(false, "smoke/cancellation", "not cancelled");
                }
                catch (OpenFlowException e)
                {
                    Check(e.Code == OpenFlowErrorCode.Aborted, "smoke/cancellation", e.WireCode);
                }
            }

            // A request nobody answers (the server drops ping, like server-latest) times out; a cancellation in flight aborts.
            var quickOptions = Options(first);
            quickOptions.RequestTimeout = TimeSpan.FromMilliseconds(300);
            using (var quick = await OpenFlowClient.ConnectAsync(new Uri(url), quickOptions).ConfigureAwait(false))
            {
                try
                {
                    await quick.RequestAsync("ping", new JObject()).ConfigureAwait(false);
                    Check(false, "smoke/timeout", "ping was answered");
                }
                catch (OpenFlowException e)
                {
                    Check(e.Code == OpenFlowErrorCode.Timeout && e.Command == "ping", "smoke/timeout", e.WireCode + " " + e.Message);
                }
                using (var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100)))
                {
                    try
                    {
                        await quick.RequestAsync("ping", new JObject(), cancel.Token).ConfigureAwait(false);
                        Check(false, "smoke/cancellation in flight", "ping was answered");
                    }
                    catch (OpenFlowException e)
                    {
                        Check(e.Code == OpenFlowErrorCode.Aborted, "smoke/cancellation in flight", e.WireCode + " " + e.Message);
                    }
                }
                var stillWorks = await quick.CountAsync(new CountRequest { Collectionname = "entities", Query = new JObject() }).ConfigureAwait(false);
                Check(stillWorks.Result >= 1, "smoke/request after a timeout", Show(WireJson.FromObject(stillWorks)));
            }

            // Queue round trip: the robot uppercases what arrives on its queue and answers on the sender's replyto queue.
            var robotQueue = await robot.RegisterQueueAsync(new RegisterQueueRequest { Queuename = "csharp.uppercase" }).ConfigureAwait(false);
            Check(robotQueue.Queuename == "csharp.uppercase", "smoke/registerqueue", robotQueue.Queuename);
            robot.OnQueueMessage(async delivery =>
            {
                var body = delivery.Data as JObject;
                await robot.QueueMessageAsync(new QueueMessageRequest
                {
                    Queuename = delivery.Replyto,
                    CorrelationId = delivery.CorrelationId,
                    Data = new JObject { ["text"] = ((string)body["text"]).ToUpperInvariant() },
                    Striptoken = true,
                }).ConfigureAwait(false);
                return new QueueMessageReply { Queuename = delivery.Queuename, CorrelationId = delivery.CorrelationId };
            });
            var answer = new TaskCompletionSource<QueueMessageRequest>();
            admin.OnQueueMessage(delivery =>
            {
                answer.TrySetResult(delivery);
                return Task.FromResult(new QueueMessageReply { Queuename = delivery.Queuename, CorrelationId = delivery.CorrelationId });
            });
            var replyQueue = await admin.RegisterQueueAsync(new RegisterQueueRequest { Queuename = "" }).ConfigureAwait(false);
            Check(!string.IsNullOrEmpty(replyQueue.Queuename), "smoke/temporary queue", "no name");
            await admin.QueueMessageAsync(new QueueMessageRequest { Queuename = "csharp.uppercase", Replyto = replyQueue.Queuename, CorrelationId = "cs-1", Data = new JObject { ["text"] = "hello from c#" }, Striptoken = true }).ConfigureAwait(false);
            var got = await Within(answer.Task, "queue reply").ConfigureAwait(false);
            Check(got.CorrelationId == "cs-1" && got.Data is JObject && (string)got.Data["text"] == "HELLO FROM C#", "smoke/queue round trip", Show(got.Data));

            // Idle long enough for the ping timer (1 s in these options) to fire; the connection must still work.
            await Task.Delay(1500).ConfigureAwait(false);
            var count = await admin.CountAsync(new CountRequest { Collectionname = "entities", Query = new JObject { ["_type"] = "csharp" } }).ConfigureAwait(false);
            Check(count.Result == 1, "smoke/count after idle pings", Show(WireJson.FromObject(count)));

            // The test's server issues 4-second tokens and refreshes them early: refreshtoken must have replaced the jwt.
            if (admin.Jwt == firstJwt) await Within(refreshed.Task, "refreshtoken").ConfigureAwait(false);
            Check(admin.Jwt != firstJwt && !string.IsNullOrEmpty(admin.Jwt), "smoke/refreshtoken", "jwt unchanged");
            var afterRefresh = await admin.CountAsync(new CountRequest { Collectionname = "entities", Query = new JObject() }).ConfigureAwait(false);
            Check(afterRefresh.Result >= 1, "smoke/request after refreshtoken", Show(WireJson.FromObject(afterRefresh)));

            await robot.CloseAsync().ConfigureAwait(false);
            try
            {
                await robot.CountAsync(new CountRequest { Collectionname = "entities", Query = new JObject() }).ConfigureAwait(false);
                Check(false, "smoke/closed client", "request succeeded");
            }
            catch (OpenFlowException e)
            {
                Check(e.Code == OpenFlowErrorCode.Offline, "smoke/closed client", e.WireCode);
            }
            await admin.CloseAsync().ConfigureAwait(false);
        }
    }
}
