// Hand-written runtime of the C# client (not generated). C# 7.2, Newtonsoft.Json 6.0.8 to 13.x.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace OpenFlowSpec
{
    /// <summary>One websocket text message of the protocol (schemas/frame.json).</summary>
    public sealed class WireFrame
    {
        /// <summary>Message id; "" for the servers' id-less error frame.</summary>
        public string Id = "";
        /// <summary>On a reply, the id of the request; null otherwise (never sent as "", Q9).</summary>
        public string ReplyTo;
        /// <summary>The command string.</summary>
        public string Command;
        /// <summary>This chunk of the payload's JSON text; null when the frame carries none.</summary>
        public string Data;
        /// <summary>Number of chunks (null when absent: 1).</summary>
        public long? Count;
        /// <summary>0-based chunk index (null when absent: 0).</summary>
        public long? Index;
        /// <summary>Priority as sent (any JSON value; only copied).</summary>
        public JToken Priority;
        /// <summary>OpenTelemetry trace id.</summary>
        public string TraceId;
        /// <summary>OpenTelemetry span id.</summary>
        public string SpanId;
    }

    /// <summary>A logical message: the frames' common header plus the joined data.</summary>
    public sealed class WireMessage
    {
        /// <summary>Message id.</summary>
        public string Id = "";
        /// <summary>The request id a reply answers; null on requests.</summary>
        public string ReplyTo;
        /// <summary>The command string.</summary>
        public string Command;
        /// <summary>The joined payload text; null when the frames carried none.</summary>
        public string Data;
        /// <summary>Priority as received.</summary>
        public JToken Priority;
        /// <summary>OpenTelemetry trace id.</summary>
        public string TraceId;
        /// <summary>OpenTelemetry span id.</summary>
        public string SpanId;
    }

    /// <summary>
    /// Chunking and frame parsing (docs/protocol.md#chunking): a payload is cut into pieces of at most the package size
    /// in UTF-16 code units, never between the halves of a surrogate pair (Q4) and never dropping a character (Q3);
    /// count and index are JSON integers (Q1); requests carry no replyto (Q9).
    /// </summary>
    public static class Framing
    {
        /// <summary>Package size used before a signin reply announces one.</summary>
        public const int DefaultChunkSize = 25000;
        /// <summary>Smallest package size adopted from a signin reply (Q5).</summary>
        public const int MinChunkSize = 100;
        /// <summary>Largest package size adopted from a signin reply (Q5).</summary>
        public const int MaxChunkSize = 16 * 1024 * 1024;

        /// <summary>The package size a signin reply announces, or <paramref name="current"/> when missing or invalid (Q5).</summary>
        public static int ChunkSizeFrom(JToken value, int current)
        {
            if (value == null || value.Type != JTokenType.Integer) return current;
            var n = value.Value<long>();
            return n >= MinChunkSize && n <= MaxChunkSize ? (int)n : current;
        }

        /// <summary>Where each piece of <see cref="ChunkString"/> ends.</summary>
        private static List<int> ChunkEnds(string text, int size)
        {
            if (size < 1) throw new OpenFlowException(OpenFlowErrorCode.Usage, "chunk size must be a positive integer, got " + size.ToString(CultureInfo.InvariantCulture));
            var ends = new List<int>();
            if (text.Length <= size)
            {
                ends.Add(text.Length);
                return ends;
            }
            var start = 0;
            while (start < text.Length)
            {
                var end = Math.Min(start + size, text.Length);
                if (end < text.Length && char.IsHighSurrogate(text[end - 1]) && char.IsLowSurrogate(text[end]))
                {
                    end = end - 1 > start ? end - 1 : end + 1;
                }
                ends.Add(end);
                start = end;
            }
            return ends;
        }

        /// <summary>Splits text into pieces of at most size UTF-16 code units, never inside a surrogate pair.</summary>
        public static List<string> ChunkString(string text, int size)
        {
            var pieces = new List<string>();
            var start = 0;
            foreach (var end in ChunkEnds(text, size))
            {
                pieces.Add(text.Substring(start, end - start));
                start = end;
            }
            return pieces;
        }

        /// <summary>The frames of one message. An empty or missing payload still gives one frame.</summary>
        public static List<WireFrame> EncodeMessage(WireMessage message, int chunkSize)
        {
            var frames = new List<WireFrame>();
            if (string.IsNullOrEmpty(message.Data))
            {
                var frame = Header(message);
                frame.Data = message.Data;
                frame.Count = 1;
                frame.Index = 0;
                frames.Add(frame);
                return frames;
            }
            var pieces = ChunkString(message.Data, chunkSize);
            for (var i = 0; i < pieces.Count; i++)
            {
                var frame = Header(message);
                frame.Data = pieces[i];
                frame.Count = pieces.Count;
                frame.Index = i;
                frames.Add(frame);
            }
            return frames;
        }

        private static WireFrame Header(WireMessage message)
        {
            return new WireFrame
            {
                Id = message.Id,
                ReplyTo = string.IsNullOrEmpty(message.ReplyTo) ? null : message.ReplyTo,
                Command = message.Command,
                Priority = message.Priority == null || message.Priority.Type == JTokenType.Null ? null : message.Priority,
                TraceId = string.IsNullOrEmpty(message.TraceId) ? null : message.TraceId,
                SpanId = string.IsNullOrEmpty(message.SpanId) ? null : message.SpanId,
            };
        }

        /// <summary>The websocket text of a frame: absent fields are left out; count and index are JSON numbers.</summary>
        public static string FrameText(WireFrame frame)
        {
            var sb = new StringBuilder();
            using (var w = new JsonTextWriter(new StringWriter(sb, CultureInfo.InvariantCulture)))
            {
                w.Formatting = Formatting.None;
                w.WriteStartObject();
                w.WritePropertyName("id");
                w.WriteValue(frame.Id);
                if (frame.ReplyTo != null)
                {
                    w.WritePropertyName("replyto");
                    w.WriteValue(frame.ReplyTo);
                }
                w.WritePropertyName("command");
                w.WriteValue(frame.Command);
                if (frame.Priority != null)
                {
                    w.WritePropertyName("priority");
                    frame.Priority.WriteTo(w);
                }
                if (frame.TraceId != null)
                {
                    w.WritePropertyName("traceId");
                    w.WriteValue(frame.TraceId);
                }
                if (frame.SpanId != null)
                {
                    w.WritePropertyName("spanId");
                    w.WriteValue(frame.SpanId);
                }
                if (frame.Data != null)
                {
                    w.WritePropertyName("data");
                    w.WriteValue(frame.Data);
                }
                w.WritePropertyName("count");
                w.WriteValue(frame.Count ?? 1);
                w.WritePropertyName("index");
                w.WriteValue(frame.Index ?? 0);
                w.WriteEndObject();
            }
            return sb.ToString();
        }

        /// <summary>
        /// Parses one websocket text message into a frame, checking what a receiver relies on; throws a Protocol
        /// OpenFlowException naming the field (Pointer). A missing id (the servers' id-less error frame) becomes "".
        /// </summary>
        public static WireFrame ParseFrame(string text)
        {
            JToken value;
            try
            {
                value = WireJson.Parse(text);
            }
            catch (JsonException e)
            {
                throw new OpenFlowException(OpenFlowErrorCode.Protocol, "frame is not JSON: " + e.Message, pointer: "", inner: e);
            }
            var obj = value as JObject;
            if (obj == null) throw new OpenFlowException(OpenFlowErrorCode.Protocol, "frame must be a JSON object", pointer: "");
            var frame = new WireFrame();
            var id = obj["id"];
            if (id != null && id.Type != JTokenType.Null)
            {
                if (id.Type != JTokenType.String) throw FieldError("id", "must be a string", id, null);
                frame.Id = (string)id;
            }
            var command = obj["command"];
            if (command == null || command.Type != JTokenType.String || ((string)command).Length == 0)
            {
                throw FieldError("command", "must be a non-empty string", command, frame.Id);
            }
            frame.Command = (string)command;
            frame.ReplyTo = OptionalString(obj, "replyto", "must be a string or null", frame.Id);
            frame.Data = OptionalString(obj, "data", "must be a string (the payload's JSON text) or null", frame.Id);
            frame.Count = OptionalInteger(obj, "count", frame.Id);
            frame.Index = OptionalInteger(obj, "index", frame.Id);
            var priority = obj["priority"];
            if (priority != null) frame.Priority = priority;
            var trace = obj["traceId"];
            if (trace != null && trace.Type == JTokenType.String) frame.TraceId = (string)trace;
            var span = obj["spanId"];
            if (span != null && span.Type == JTokenType.String) frame.SpanId = (string)span;
            return frame;
        }

        private static string OptionalString(JObject obj, string field, string what, string id)
        {
            var token = obj[field];
            if (token == null || token.Type == JTokenType.Null) return null;
            if (token.Type != JTokenType.String) throw FieldError(field, what, token, id);
            return (string)token;
        }

        private static long? OptionalInteger(JObject obj, string field, string id)
        {
            var token = obj[field];
            if (token == null || token.Type == JTokenType.Null) return null;
            if (token.Type == JTokenType.Integer) return token.Value<long>();
            if (token.Type == JTokenType.Float)
            {
                var d = token.Value<double>();
                if (d == Math.Floor(d) && !double.IsInfinity(d) && Math.Abs(d) < 9007199254740992d) return (long)d;
            }
            throw FieldError(field, "must be an integer JSON number (a numeric string stalls real servers)", token, id);
        }

        private static OpenFlowException FieldError(string field, string what, JToken value, string id)
        {
            string shown;
            if (value == null) shown = "undefined";
            else if (value.Type == JTokenType.String)
            {
                var s = (string)value;
                shown = JsonConvert.ToString(s.Length > 40 ? s.Substring(0, 40) : s);
            }
            else shown = value.ToString(Formatting.None);
            return new OpenFlowException(OpenFlowErrorCode.Protocol, "frame /" + field + " " + what + ", got " + shown, id: id, pointer: "/" + field);
        }

        private static int counter;
        private static readonly string Prefix = NewPrefix();

        private static string NewPrefix()
        {
            var bytes = new byte[8];
            using (var rng = System.Security.Cryptography.RandomNumberGenerator.Create()) rng.GetBytes(bytes);
            var sb = new StringBuilder();
            foreach (var b in bytes) sb.Append("0123456789abcdefghijklmnopqrstuvwxyz"[b % 36]);
            return sb.ToString();
        }

        /// <summary>A new frame id: a random per-process prefix plus a counter, so ids never repeat within a process.</summary>
        public static string NewFrameId()
        {
            var n = System.Threading.Interlocked.Increment(ref counter);
            return Prefix + ((uint)n).ToString("x", CultureInfo.InvariantCulture);
        }
    }

    /// <summary>Limits of <see cref="Reassembler"/>.</summary>
    public sealed class ReassemblyLimits
    {
        /// <summary>Largest joined data accepted, in UTF-16 code units.</summary>
        public long MaxMessageChars = 128L * 1024 * 1024;
        /// <summary>Largest count accepted.</summary>
        public long MaxChunks = 1000000;
        /// <summary>Most messages half-received at once.</summary>
        public int MaxPartialMessages = 1000;
        /// <summary>Most characters held for half-received messages at once.</summary>
        public long MaxPendingChars = 256L * 1024 * 1024;
        /// <summary>A half-received message older than this is dropped by Sweep.</summary>
        public TimeSpan PartialTimeout = TimeSpan.FromSeconds(60);
    }

    /// <summary>
    /// Joins chunked messages, keyed by frame id, linear in any arrival order. Any inconsistency throws a Protocol
    /// OpenFlowException naming the id, with a Reason, and drops that message's state only.
    /// </summary>
    public sealed class Reassembler
    {
        private sealed class Partial
        {
            public WireMessage Header;
            public long Count;
            public Dictionary<long, string> Pieces = new Dictionary<long, string>();
            public long Chars;
            public long Held;
            public DateTime StartedAt;
        }

        private readonly Dictionary<string, Partial> partials = new Dictionary<string, Partial>(StringComparer.Ordinal);
        private long heldChars;

        /// <summary>Creates a reassembler with the given limits (defaults when null).</summary>
        public Reassembler(ReassemblyLimits limits = null)
        {
            Limits = limits ?? new ReassemblyLimits();
        }

        /// <summary>The limits in force.</summary>
        public ReassemblyLimits Limits { get; private set; }

        /// <summary>Number of messages half-received.</summary>
        public int Pending
        {
            get { return partials.Count; }
        }

        private void Forget(string id)
        {
            Partial p;
            if (!partials.TryGetValue(id, out p)) return;
            partials.Remove(id);
            heldChars -= p.Held;
        }

        /// <summary>Feeds one frame; returns the message when it is complete, otherwise null.</summary>
        public WireMessage Push(WireFrame frame, DateTime now)
        {
            var count = frame.Count ?? 1;
            var index = frame.Index ?? 0;
            var id = frame.Id;
            if (count < 1)
            {
                Forget(id);
                throw Fault("count-invalid", frame, "count must be an integer >= 1, got " + count.ToString(CultureInfo.InvariantCulture), "/count");
            }
            if (index < 0 || index >= count)
            {
                Forget(id);
                throw Fault("index-out-of-range", frame, "index " + index.ToString(CultureInfo.InvariantCulture) + " is outside 0.." + (count - 1).ToString(CultureInfo.InvariantCulture), "/index");
            }
            if (count > Limits.MaxChunks)
            {
                Forget(id);
                throw Fault("too-many-chunks", frame, "count " + count.ToString(CultureInfo.InvariantCulture) + " exceeds the limit of " + Limits.MaxChunks.ToString(CultureInfo.InvariantCulture) + " chunks", "/count");
            }
            var length = frame.Data == null ? 0 : frame.Data.Length;
            Partial partial;
            var known = partials.TryGetValue(id, out partial);
            if (count == 1 && !known)
            {
                if (length > Limits.MaxMessageChars) throw Fault("too-large", frame, "message of " + length.ToString(CultureInfo.InvariantCulture) + " characters exceeds the limit", "/data");
                var message = MessageOf(frame);
                message.Data = frame.Data;
                return message;
            }
            if (!known)
            {
                if (partials.Count >= Limits.MaxPartialMessages) throw Fault("too-many-partial", frame, "more than " + Limits.MaxPartialMessages.ToString(CultureInfo.InvariantCulture) + " messages half-received at once", null);
                partial = new Partial { Header = MessageOf(frame), Count = count, StartedAt = now };
                partial.Held = id.Length + frame.Command.Length + (frame.ReplyTo == null ? 0 : frame.ReplyTo.Length);
                heldChars += partial.Held;
                partials[id] = partial;
            }
            else if (partial.Count != count || partial.Header.Command != frame.Command || (partial.Header.ReplyTo ?? "") != (frame.ReplyTo ?? ""))
            {
                Forget(id);
                throw Fault("chunk-mismatch", frame, "chunk " + index.ToString(CultureInfo.InvariantCulture) + " disagrees with earlier chunks of the same id (count, command or replyto)", "/count");
            }
            if (partial.Pieces.ContainsKey(index))
            {
                Forget(id);
                throw Fault("chunk-duplicate", frame, "duplicate chunk " + index.ToString(CultureInfo.InvariantCulture) + " of " + count.ToString(CultureInfo.InvariantCulture), "/index");
            }
            partial.Chars += length;
            partial.Held += length;
            heldChars += length;
            if (heldChars > Limits.MaxPendingChars)
            {
                Forget(id);
                throw Fault("too-many-partial", frame, "half-received messages exceed " + Limits.MaxPendingChars.ToString(CultureInfo.InvariantCulture) + " characters in total", "/data");
            }
            if (partial.Chars > Limits.MaxMessageChars)
            {
                Forget(id);
                throw Fault("too-large", frame, "message exceeds the limit of " + Limits.MaxMessageChars.ToString(CultureInfo.InvariantCulture) + " characters", "/data");
            }
            partial.Pieces[index] = frame.Data ?? "";
            if (partial.Pieces.Count < count) return null;
            Forget(id);
            var sb = new StringBuilder((int)Math.Min(partial.Chars, int.MaxValue));
            for (long i = 0; i < count; i++) sb.Append(partial.Pieces[i]);
            var done = partial.Header;
            done.Data = sb.ToString();
            return done;
        }

        /// <summary>Drops half-received messages older than the partial timeout; one Timeout exception per dropped message.</summary>
        public List<OpenFlowException> Sweep(DateTime now)
        {
            var expired = new List<OpenFlowException>();
            foreach (var entry in new List<KeyValuePair<string, Partial>>(partials))
            {
                if (now - entry.Value.StartedAt < Limits.PartialTimeout) continue;
                Forget(entry.Key);
                expired.Add(new OpenFlowException(OpenFlowErrorCode.Timeout,
                    "message " + entry.Key + " (" + entry.Value.Header.Command + ") stayed incomplete: " + entry.Value.Pieces.Count.ToString(CultureInfo.InvariantCulture) + " of " + entry.Value.Count.ToString(CultureInfo.InvariantCulture) + " chunks",
                    command: entry.Value.Header.Command, id: entry.Key));
            }
            return expired;
        }

        /// <summary>Forgets everything (connection closed).</summary>
        public void Clear()
        {
            partials.Clear();
            heldChars = 0;
        }

        private static WireMessage MessageOf(WireFrame frame)
        {
            return new WireMessage
            {
                Id = frame.Id,
                ReplyTo = string.IsNullOrEmpty(frame.ReplyTo) ? null : frame.ReplyTo,
                Command = frame.Command,
                Priority = frame.Priority,
                TraceId = frame.TraceId,
                SpanId = frame.SpanId,
            };
        }

        private static OpenFlowException Fault(string reason, WireFrame frame, string what, string pointer)
        {
            return new OpenFlowException(OpenFlowErrorCode.Protocol, "message " + frame.Id + " (" + frame.Command + "): " + what,
                command: frame.Command, id: frame.Id, pointer: pointer, reason: reason);
        }
    }
}
