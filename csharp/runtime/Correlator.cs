// Hand-written runtime of the C# client (not generated). C# 7.2, Newtonsoft.Json 6.0.8 to 13.x.
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading.Tasks;
using Newtonsoft.Json.Linq;

namespace OpenFlowSpec
{
    /// <summary>
    /// Pending requests by frame id (docs/protocol.md#correlation). Every tracked request settles exactly once: its
    /// reply (matched by replyto), a server error, timeout, cancellation, or <see cref="FailAll"/> when the connection closes.
    /// </summary>
    public sealed class Correlator
    {
        private sealed class Entry
        {
            public string Command;
            public TaskCompletionSource<JToken> Completion;
        }

        private readonly ConcurrentDictionary<string, Entry> pending = new ConcurrentDictionary<string, Entry>(StringComparer.Ordinal);

        /// <summary>Number of pending requests.</summary>
        public int Count
        {
            get { return pending.Count; }
        }

        /// <summary>Tracks request <paramref name="id"/>; the task completes with the reply payload or fails with OpenFlowException.</summary>
        public Task<JToken> Track(string id, string command)
        {
            var entry = new Entry { Command = command, Completion = new TaskCompletionSource<JToken>(TaskCreationOptions.RunContinuationsAsynchronously) };
            if (!pending.TryAdd(id, entry)) throw new OpenFlowException(OpenFlowErrorCode.Usage, "request id " + id + " is already pending", command: command, id: id);
            return entry.Completion.Task;
        }

        /// <summary>The command of a pending request, or null.</summary>
        public string CommandOf(string id)
        {
            Entry entry;
            return pending.TryGetValue(id, out entry) ? entry.Command : null;
        }

        /// <summary>
        /// Settles the request a reply answers (message.ReplyTo) with <see cref="Replies.Interpret"/>. Returns false when
        /// nothing was pending under that id (late, duplicate or stray reply): nothing happens then.
        /// </summary>
        public bool Reply(WireMessage message)
        {
            Entry entry;
            if (string.IsNullOrEmpty(message.ReplyTo) || !pending.TryRemove(message.ReplyTo, out entry)) return false;
            try
            {
                entry.Completion.TrySetResult(Replies.Interpret(message, entry.Command));
            }
            catch (OpenFlowException e)
            {
                entry.Completion.TrySetException(e);
            }
            return true;
        }

        /// <summary>Fails one pending request. Returns false when it was not pending.</summary>
        public bool Fail(string id, OpenFlowException error)
        {
            Entry entry;
            if (!pending.TryRemove(id, out entry)) return false;
            entry.Completion.TrySetException(error);
            return true;
        }

        /// <summary>Fails every pending request (connection closed).</summary>
        public void FailAll(Func<string, string, OpenFlowException> makeError)
        {
            foreach (var id in new List<string>(pending.Keys))
            {
                Entry entry;
                if (pending.TryRemove(id, out entry)) entry.Completion.TrySetException(makeError(id, entry.Command));
            }
        }
    }
}
