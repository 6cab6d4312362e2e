// Hand-written runtime of the C# client (not generated). C# 7.2, Newtonsoft.Json 6.0.8 to 13.x, ClientWebSocket.
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Net.WebSockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Newtonsoft.Json.Linq;
using OpenFlowSpec.Models;

namespace OpenFlowSpec
{
    /// <summary>How <see cref="OpenFlowClient.ConnectAsync"/> signs in and times out.</summary>
    public sealed class OpenFlowClientOptions
    {
        /// <summary>Username (with <see cref="Password"/>), or leave empty and set <see cref="Jwt"/>.</summary>
        public string Username;
        /// <summary>Password of <see cref="Username"/>.</summary>
        public string Password;
        /// <summary>A token to sign in with instead of a username and password.</summary>
        public string Jwt;
        /// <summary>Reported to the server as clientagent.</summary>
        public string ClientAgent = "openflow-spec-csharp";
        /// <summary>Reported to the server as clientversion.</summary>
        public string ClientVersion;
        /// <summary>Ask for a long-lived token (docs/protocol.md#q11).</summary>
        public bool LongToken;
        /// <summary>Default per-request timeout; <see cref="Timeout.InfiniteTimeSpan"/> for none.</summary>
        public TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);
        /// <summary>Opening the websocket and signing in.</summary>
        public TimeSpan ConnectTimeout = TimeSpan.FromSeconds(15);
        /// <summary>Send ping when nothing was sent for this long (servers close a client silent for 60 s).</summary>
        public TimeSpan PingInterval = TimeSpan.FromSeconds(10);
        /// <summary>
        /// Inbound silence after which one cheap probe request is sent (servers never ping, and server-latest drops
        /// ping without a pong, so any inbound frame is the proof of life); <see cref="Timeout.InfiniteTimeSpan"/> turns
        /// liveness checks off.
        /// </summary>
        public TimeSpan IdleTimeout = TimeSpan.FromSeconds(30);
        /// <summary>Silence after the probe after which the connection is declared dead and closed.</summary>
        public TimeSpan ProbeTimeout = TimeSpan.FromSeconds(10);
        /// <summary>Limits for incoming chunked messages.</summary>
        public ReassemblyLimits Limits = new ReassemblyLimits();
    }

    /// <summary>
    /// A connection to an OpenFlow server over the legacy websocket protocol: framing and chunking, correlation,
    /// ping/pong, sign-in, refreshtoken, timeouts and cancellation; every failure is an <see cref="OpenFlowException"/>.
    /// The typed command methods come from the generated <see cref="OpenFlowCommands"/>. No reconnect: when the
    /// connection drops, pending requests fail with Closed and the caller connects again.
    /// </summary>
    public sealed class OpenFlowClient : OpenFlowCommands, IDisposable
    {
        private readonly ClientWebSocket socket;
        private readonly OpenFlowClientOptions options;
        private readonly Correlator pending = new Correlator();
        private readonly Dictionary<string, List<Func<WireMessage, JToken, Task<object>>>> handlers = new Dictionary<string, List<Func<WireMessage, JToken, Task<object>>>>(StringComparer.OrdinalIgnoreCase);
        private readonly SemaphoreSlim sendLock = new SemaphoreSlim(1, 1);
        private readonly Reassembler reassembler;
        private readonly CancellationTokenSource life = new CancellationTokenSource();
        private Timer pingTimer;
        private long lastSentTicks = DateTime.UtcNow.Ticks;
        private long lastReceivedTicks = DateTime.UtcNow.Ticks;
        private int probing;
        private volatile bool signedIn;
        private DateTime lastSweep = DateTime.UtcNow;
        private int closed;
        private Task receiveLoop;
        private volatile string jwt;
        private volatile TokenUser user;

        private OpenFlowClient(OpenFlowClientOptions options)
        {
            this.options = options;
            socket = new ClientWebSocket();
            reassembler = new Reassembler(options.Limits);
            ChunkSize = Framing.DefaultChunkSize;
        }

        /// <summary>The current token (from signin, replaced by refreshtoken).</summary>
        public string Jwt
        {
            get { return jwt; }
        }

        /// <summary>The signed-in user.</summary>
        public TokenUser User
        {
            get { return user; }
        }

        /// <summary>Package size for outgoing data: the signin reply's websocket_package_size (Q5 rules).</summary>
        public int ChunkSize { get; private set; }

        /// <summary>The server sent refreshtoken; <see cref="Jwt"/> and <see cref="User"/> already hold the new values.</summary>
        public event Action<string> TokenRefreshed;

        /// <summary>A problem that did not fail a call (a malformed frame, an uncorrelated server error).</summary>
        public event Action<OpenFlowException> Error;

        /// <summary>The connection closed; pending requests have failed with Closed.</summary>
        public event Action<OpenFlowException> Closed;

        /// <summary>Opens the websocket (ws:// or wss://) and signs in.</summary>
        public static async Task<OpenFlowClient> ConnectAsync(Uri url, OpenFlowClientOptions options, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (url == null || (url.Scheme != "ws" && url.Scheme != "wss")) throw new OpenFlowException(OpenFlowErrorCode.Usage, "url must start with ws:// or wss://");
            if (options == null) throw new OpenFlowException(OpenFlowErrorCode.Usage, "options are required");
            if (string.IsNullOrEmpty(options.Jwt) && (string.IsNullOrEmpty(options.Username) || options.Password == null))
            {
                throw new OpenFlowException(OpenFlowErrorCode.Usage, "options need Username and Password, or Jwt");
            }
            var client = new OpenFlowClient(options);
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(options.ConnectTimeout);
                try
                {
                    await client.socket.ConnectAsync(url, timeout.Token).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    client.Dispose();
                    if (cancellationToken.IsCancellationRequested) throw new OpenFlowException(OpenFlowErrorCode.Aborted, "connect cancelled", inner: e);
                    throw new OpenFlowException(OpenFlowErrorCode.Closed, "cannot connect to " + url.GetLeftPart(UriPartial.Path) + ": " + e.Message, inner: e);
                }
                client.receiveLoop = Task.Run(() => client.ReceiveLoopAsync());
                var tick = TimeSpan.FromMilliseconds(Math.Max(50, Math.Min(options.PingInterval.TotalMilliseconds,
                    options.IdleTimeout == Timeout.InfiniteTimeSpan ? double.MaxValue : Math.Min(options.IdleTimeout.TotalMilliseconds, options.ProbeTimeout.TotalMilliseconds)) / 2));
                client.pingTimer = new Timer(client.OnPingTimer, null, tick, tick);
                try
                {
                    await client.SignInAsync(timeout.Token, cancellationToken).ConfigureAwait(false);
                    Interlocked.Exchange(ref client.lastReceivedTicks, DateTime.UtcNow.Ticks);
                    client.signedIn = true; // sign-in has its own timeout; liveness is judged from here on
                }
                catch
                {
                    client.Dispose();
                    throw;
                }
            }
            return client;
        }

        private async Task SignInAsync(CancellationToken timeout, CancellationToken caller)
        {
            var payload = new JObject();
            if (!string.IsNullOrEmpty(options.Jwt)) payload["jwt"] = options.Jwt;
            else
            {
                payload["username"] = options.Username;
                payload["password"] = options.Password;
            }
            payload["clientagent"] = options.ClientAgent;
            if (options.ClientVersion != null) payload["clientversion"] = options.ClientVersion;
            if (options.LongToken) payload["longtoken"] = true;
            JToken reply;
            try
            {
                reply = await ExchangeAsync("signin", payload, timeout).ConfigureAwait(false);
            }
            catch (OpenFlowException e) when (e.Code == OpenFlowErrorCode.Aborted && !caller.IsCancellationRequested)
            {
                throw new OpenFlowException(OpenFlowErrorCode.Timeout, "signin: no reply within " + options.ConnectTimeout.TotalMilliseconds + " ms", command: "signin");
            }
            var fields = reply as JObject;
            var token = fields == null ? null : fields["jwt"];
            if (token == null || token.Type != JTokenType.String || ((string)token).Length == 0)
            {
                throw new OpenFlowException(OpenFlowErrorCode.Auth, "signin reply carries no jwt", command: "signin");
            }
            jwt = (string)token;
            var u = fields["user"];
            user = u == null || u.Type != JTokenType.Object ? null : WireJson.ToObject<TokenUser>(u);
            ChunkSize = Framing.ChunkSizeFrom(fields["websocket_package_size"], ChunkSize);
        }

        /// <inheritdoc />
        protected override async Task<TReply> RequestAsync<TRequest, TReply>(string command, TRequest request, CancellationToken cancellationToken)
        {
            var reply = await ExchangeAsync(command, WireJson.FromObject((object)request ?? new JObject()), cancellationToken, options.RequestTimeout).ConfigureAwait(false);
            return WireJson.ToObject<TReply>(reply);
        }

        /// <summary>Sends any command with an untyped payload and completes with the reply payload.</summary>
        public Task<JToken> RequestAsync(string command, JToken payload, CancellationToken cancellationToken = default(CancellationToken))
        {
            return ExchangeAsync(command, payload ?? new JObject(), cancellationToken, options.RequestTimeout);
        }

        private async Task<JToken> ExchangeAsync(string command, JToken payload, CancellationToken cancellationToken, TimeSpan? timeoutOrNull = null)
        {
            if (string.IsNullOrEmpty(command)) throw new OpenFlowException(OpenFlowErrorCode.Usage, "command must be a non-empty string");
            if (cancellationToken.IsCancellationRequested) throw new OpenFlowException(OpenFlowErrorCode.Aborted, command + ": cancelled before it was sent", command: command);
            if (Volatile.Read(ref closed) != 0) throw new OpenFlowException(OpenFlowErrorCode.Offline, command + ": the client is closed", command: command);
            var id = Framing.NewFrameId();
            var reply = pending.Track(id, command);
            var timeout = timeoutOrNull ?? Timeout.InfiniteTimeSpan;
            using (var timer = timeout == Timeout.InfiniteTimeSpan ? new CancellationTokenSource() : new CancellationTokenSource(timeout))
            using (timer.Token.Register(() => Fail(id, new OpenFlowException(OpenFlowErrorCode.Timeout, command + ": no reply within " + timeout.TotalMilliseconds + " ms", command: command, id: id))))
            using (cancellationToken.Register(() => Fail(id, new OpenFlowException(OpenFlowErrorCode.Aborted, command + ": cancelled", command: command, id: id))))
            {
                try
                {
                    await SendMessageAsync(new WireMessage { Id = id, Command = command, Data = WireJson.Serialize(payload) }, CancellationToken.None).ConfigureAwait(false);
                }
                catch (OpenFlowException e)
                {
                    Fail(id, e);
                }
                return await reply.ConfigureAwait(false);
            }
        }

        private void Fail(string id, OpenFlowException error)
        {
            pending.Fail(id, error);
        }

        private async Task SendMessageAsync(WireMessage message, CancellationToken cancellationToken)
        {
            await sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                foreach (var frame in Framing.EncodeMessage(message, ChunkSize))
                {
                    var bytes = Encoding.UTF8.GetBytes(Framing.FrameText(frame));
                    try
                    {
                        await socket.SendAsync(new ArraySegment<byte>(bytes), WebSocketMessageType.Text, true, cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception e) when (!(e is OpenFlowException))
                    {
                        throw new OpenFlowException(OpenFlowErrorCode.Closed, message.Command + ": cannot send: " + e.Message, command: message.Command, id: message.Id, inner: e);
                    }
                    Interlocked.Exchange(ref lastSentTicks, DateTime.UtcNow.Ticks);
                }
            }
            finally
            {
                sendLock.Release();
            }
        }

        private void OnPingTimer(object state)
        {
            if (Volatile.Read(ref closed) != 0) return;
            CheckLiveness();
            var idle = DateTime.UtcNow - new DateTime(Interlocked.Read(ref lastSentTicks), DateTimeKind.Utc);
            if (idle < options.PingInterval) return;
            // A ping has no data (as the api sends it); server-latest drops it, which is fine: it only keeps us alive.
            SendMessageAsync(new WireMessage { Id = Framing.NewFrameId(), Command = "ping" }, CancellationToken.None).ContinueWith(t =>
            {
                var ignored = t.Exception;
            }, TaskContinuationOptions.OnlyOnFaulted);
        }

        /// <summary>
        /// After IdleTimeout of inbound silence, one probe (a count of a non-existent user, answered by every server;
        /// even an error reply proves the link); when nothing at all arrives within ProbeTimeout, the connection is dead.
        /// </summary>
        private void CheckLiveness()
        {
            if (options.IdleTimeout == Timeout.InfiniteTimeSpan || !signedIn) return;
            var silence = DateTime.UtcNow - new DateTime(Interlocked.Read(ref lastReceivedTicks), DateTimeKind.Utc);
            if (silence < options.IdleTimeout || Interlocked.CompareExchange(ref probing, 1, 0) != 0) return;
            var sentAt = DateTime.UtcNow.Ticks;
            var probe = new JObject { ["collectionname"] = "users", ["query"] = new JObject { ["_id"] = "openflow-spec-liveness-probe" } };
            ExchangeAsync("count", probe, CancellationToken.None, options.ProbeTimeout).ContinueWith(t =>
            {
                Volatile.Write(ref probing, 0);
                var error = t.IsFaulted ? t.Exception.InnerException as OpenFlowException : null;
                if (error == null || error.Code != OpenFlowErrorCode.Timeout || Interlocked.Read(ref lastReceivedTicks) >= sentAt) return;
                var dead = new OpenFlowException(OpenFlowErrorCode.Closed, "connection dead: nothing received for " + (options.IdleTimeout + options.ProbeTimeout).TotalMilliseconds + " ms");
                Shutdown(dead);
                try
                {
                    socket.Abort();
                }
                catch (Exception)
                {
                    // already gone
                }
            });
        }

        private async Task ReceiveLoopAsync()
        {
            var buffer = new byte[64 * 1024];
            var message = new MemoryStream();
            OpenFlowException reason = null;
            try
            {
                while (socket.State == WebSocketState.Open)
                {
                    var result = await socket.ReceiveAsync(new ArraySegment<byte>(buffer), life.Token).ConfigureAwait(false);
                    if (result.MessageType == WebSocketMessageType.Close) break;
                    Interlocked.Exchange(ref lastReceivedTicks, DateTime.UtcNow.Ticks);
                    message.Write(buffer, 0, result.Count);
                    if (message.Length > options.Limits.MaxMessageChars * 3 + 4096)
                    {
                        throw new OpenFlowException(OpenFlowErrorCode.Protocol, "websocket message exceeds the size limit");
                    }
                    if (!result.EndOfMessage) continue;
                    // Decode the whole websocket message at once (Q17: decoding per receive buffer splits characters).
                    var text = Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length);
                    message.SetLength(0);
                    if (result.MessageType == WebSocketMessageType.Text) OnText(text);
                }
            }
            catch (OpenFlowException e)
            {
                reason = e;
            }
            catch (Exception e)
            {
                if (Volatile.Read(ref closed) == 0) reason = new OpenFlowException(OpenFlowErrorCode.Closed, "connection lost: " + e.Message, inner: e);
            }
            Shutdown(reason ?? new OpenFlowException(OpenFlowErrorCode.Closed, "connection closed"));
        }

        private void OnText(string text)
        {
            WireMessage message;
            try
            {
                var frame = Framing.ParseFrame(text);
                var now = DateTime.UtcNow;
                message = reassembler.Push(frame, now);
                if (reassembler.Pending > 0 && now - lastSweep > TimeSpan.FromSeconds(1))
                {
                    lastSweep = now;
                    // A half-received reply that went stale fails the request it answers; anything else is reported.
                    foreach (var stale in reassembler.Sweep(now)) RaiseError(stale);
                }
            }
            catch (OpenFlowException e)
            {
                // A broken reply fails the request it answers; anything else is reported and the connection goes on.
                if (e.Id == null || !pending.Fail(e.Id, e)) RaiseError(e);
                return;
            }
            if (message == null) return;
            if (message.ReplyTo != null)
            {
                pending.Reply(message); // false: a late, duplicate or stray reply, dropped
                return;
            }
            // server-latest answers a rate-limited request with command error, the request's own id and no replyto.
            if (string.Equals(message.Command, "error", StringComparison.OrdinalIgnoreCase) && pending.CommandOf(message.Id) != null)
            {
                pending.Reply(new WireMessage { Id = message.Id, ReplyTo = message.Id, Command = message.Command, Data = message.Data });
                return;
            }
            Dispatch(message);
        }

        private void Dispatch(WireMessage message)
        {
            var command = message.Command.ToLowerInvariant();
            switch (command)
            {
                case "ping":
                    Forget(SendMessageAsync(new WireMessage { Id = Framing.NewFrameId(), ReplyTo = message.Id, Command = "pong", Data = message.Data ?? "" }, CancellationToken.None));
                    return;
                case "pong":
                    return;
                case "refreshtoken":
                    ApplyRefresh(message);
                    break;
                case "error":
                    RaiseError(Replies.ServerError(message.Data ?? "error without a message", "error", message.Id));
                    return;
            }
            List<Func<WireMessage, JToken, Task<object>>> list;
            lock (handlers)
            {
                if (!handlers.TryGetValue(command, out list)) list = null;
                else list = new List<Func<WireMessage, JToken, Task<object>>>(list);
            }
            if (list == null || list.Count == 0) return;
            JToken payload;
            try
            {
                payload = string.IsNullOrEmpty(message.Data) ? new JObject() : WireJson.Parse(message.Data);
            }
            catch (Newtonsoft.Json.JsonException e)
            {
                RaiseError(new OpenFlowException(OpenFlowErrorCode.Protocol, command + ": data is not JSON (" + e.Message + ")", command: command, id: message.Id));
                return;
            }
            foreach (var handler in list) Forget(RunHandlerAsync(handler, message, payload));
        }

        private async Task RunHandlerAsync(Func<WireMessage, JToken, Task<object>> handler, WireMessage message, JToken payload)
        {
            object result;
            try
            {
                result = await handler(message, payload).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // A handler that throws answers with command error and the text (what the api does for a rejected queuemessage).
                if (IsAnswered(message.Command)) await ReplyAsync(message, "error", e.Message).ConfigureAwait(false);
                RaiseError(new OpenFlowException(OpenFlowErrorCode.Usage, message.Command + " handler failed: " + e.Message, command: message.Command, id: message.Id, inner: e));
                return;
            }
            if (result != null) await ReplyAsync(message, message.Command, WireJson.Serialize(WireJson.FromObject(result))).ConfigureAwait(false);
        }

        private static bool IsAnswered(string command)
        {
            var c = command.ToLowerInvariant();
            return c != "refreshtoken" && c != "watchevent" && c != "queueclosed" && c != "exchangeclosed" && c != "pong" && c != "error";
        }

        private async Task ReplyAsync(WireMessage request, string command, string data)
        {
            try
            {
                await SendMessageAsync(new WireMessage { Id = Framing.NewFrameId(), ReplyTo = request.Id, Command = command, Data = data }, CancellationToken.None).ConfigureAwait(false);
            }
            catch (OpenFlowException e)
            {
                RaiseError(e);
            }
        }

        private void ApplyRefresh(WireMessage message)
        {
            try
            {
                var payload = WireJson.Parse(message.Data ?? "{}") as JObject;
                var token = payload == null ? null : payload["jwt"];
                if (token == null || token.Type != JTokenType.String || ((string)token).Length == 0) return;
                jwt = (string)token;
                var u = payload["user"];
                if (u != null && u.Type == JTokenType.Object) user = WireJson.ToObject<TokenUser>(u);
                var refreshed = TokenRefreshed;
                if (refreshed != null) refreshed(jwt);
            }
            catch (Newtonsoft.Json.JsonException e)
            {
                RaiseError(new OpenFlowException(OpenFlowErrorCode.Protocol, "refreshtoken: data is not JSON (" + e.Message + ")", command: "refreshtoken", id: message.Id));
            }
        }

        private void RaiseError(OpenFlowException e)
        {
            var error = Error;
            if (error == null) return;
            try
            {
                error(e);
            }
            catch
            {
                // a listener's failure must not stop the receive loop
            }
        }

        private static void Forget(Task task)
        {
            task.ContinueWith(t =>
            {
                var ignored = t.Exception;
            }, TaskContinuationOptions.OnlyOnFaulted);
        }

        /// <inheritdoc />
        protected override IDisposable OnCommand<TRequest>(string command, Action<TRequest> handler)
        {
            if (handler == null) throw new OpenFlowException(OpenFlowErrorCode.Usage, "handler is required");
            return AddHandler(command, (message, payload) =>
            {
                handler(WireJson.ToObject<TRequest>(payload));
                return Task.FromResult<object>(null);
            });
        }

        /// <inheritdoc />
        protected override IDisposable OnCommand<TRequest, TReply>(string command, Func<TRequest, Task<TReply>> handler)
        {
            if (handler == null) throw new OpenFlowException(OpenFlowErrorCode.Usage, "handler is required");
            return AddHandler(command, async (message, payload) => (object)await handler(WireJson.ToObject<TRequest>(payload)).ConfigureAwait(false));
        }

        /// <summary>Registers an untyped handler for a server-started command; its non-null result is sent as the reply.</summary>
        public IDisposable On(string command, Func<JToken, Task<JToken>> handler)
        {
            return AddHandler(command, async (message, payload) => (object)await handler(payload).ConfigureAwait(false));
        }

        private IDisposable AddHandler(string command, Func<WireMessage, JToken, Task<object>> handler)
        {
            lock (handlers)
            {
                List<Func<WireMessage, JToken, Task<object>>> list;
                if (!handlers.TryGetValue(command, out list)) handlers[command] = list = new List<Func<WireMessage, JToken, Task<object>>>();
                list.Add(handler);
            }
            return new Registration(() =>
            {
                lock (handlers)
                {
                    List<Func<WireMessage, JToken, Task<object>>> list;
                    if (handlers.TryGetValue(command, out list)) list.Remove(handler);
                }
            });
        }

        private sealed class Registration : IDisposable
        {
            private Action remove;

            public Registration(Action remove)
            {
                this.remove = remove;
            }

            public void Dispose()
            {
                var r = Interlocked.Exchange(ref remove, null);
                if (r != null) r();
            }
        }

        private void Shutdown(OpenFlowException reason)
        {
            if (Interlocked.Exchange(ref closed, 1) != 0) return;
            if (pingTimer != null) pingTimer.Dispose();
            pending.FailAll((id, command) => new OpenFlowException(OpenFlowErrorCode.Closed, command + ": connection closed before the reply (" + reason.Message + ")", command: command, id: id, inner: reason));
            reassembler.Clear();
            var closedHandler = Closed;
            if (closedHandler != null) closedHandler(reason);
        }

        /// <summary>Closes the connection; pending requests fail with Closed.</summary>
        public async Task CloseAsync()
        {
            if (Volatile.Read(ref closed) == 0)
            {
                try
                {
                    using (var t = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
                    {
                        if (socket.State == WebSocketState.Open) await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", t.Token).ConfigureAwait(false);
                    }
                }
                catch (Exception)
                {
                    // closing a broken socket: nothing left to tell the server
                }
            }
            Shutdown(new OpenFlowException(OpenFlowErrorCode.Closed, "client closed"));
            life.Cancel();
            var loop = receiveLoop;
            if (loop != null) await Task.WhenAny(loop, Task.Delay(2000)).ConfigureAwait(false);
        }

        /// <summary>Aborts the connection at once.</summary>
        public void Dispose()
        {
            Shutdown(new OpenFlowException(OpenFlowErrorCode.Closed, "client disposed"));
            life.Cancel();
            socket.Abort();
            socket.Dispose();
        }
    }
}
