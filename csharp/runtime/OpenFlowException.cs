// Hand-written runtime of the C# client (not generated). C# 7.2, Newtonsoft.Json 6.0.8 to 13.x.
using System;
using System.Collections.Generic;

namespace OpenFlowSpec
{
    /// <summary>
    /// The closed set of error codes: the same set, in the same order, as <c>errorCodes</c> of the TypeScript runtime
    /// (runtime/errors.ts); <see cref="OpenFlowException.WireCode"/> gives the shared spelling ("rate-limited").
    /// </summary>
    public enum OpenFlowErrorCode
    {
        /// <summary>No reply arrived within the request timeout (or a message stayed half-received too long).</summary>
        Timeout,
        /// <summary>The caller's CancellationToken fired before the reply arrived.</summary>
        Aborted,
        /// <summary>The connection closed (or the client was closed) while the request was pending.</summary>
        Closed,
        /// <summary>The client is not connected and the request was not sent.</summary>
        Offline,
        /// <summary>The server answered with an error (command <c>error</c>, or an <c>error</c> field in the reply).</summary>
        Server,
        /// <summary>Sign-in was refused or the token was rejected.</summary>
        Auth,
        /// <summary>The server answered "Rate limit exceeded".</summary>
        RateLimited,
        /// <summary>The server does not know the command ("Unknown command ...").</summary>
        Unsupported,
        /// <summary>A peer broke the wire protocol: malformed frame, bad chunks, oversized message, unparsable reply.</summary>
        Protocol,
        /// <summary>A payload failed schema validation.</summary>
        Validation,
        /// <summary>The API was called wrongly (bad argument or option).</summary>
        Usage,
    }

    /// <summary>The one exception type of the runtime: every failure carries one code of <see cref="OpenFlowErrorCode"/>.</summary>
    public class OpenFlowException : Exception
    {
        private static readonly string[] WireCodes =
        {
            "timeout", "aborted", "closed", "offline", "server", "auth", "rate-limited", "unsupported", "protocol", "validation", "usage",
        };

        /// <summary>Every code's wire spelling, in the order of runtime/errors.ts.</summary>
        public static IReadOnlyList<string> AllWireCodes
        {
            get { return WireCodes; }
        }

        /// <summary>The wire spelling of a code ("rate-limited").</summary>
        public static string WireCodeOf(OpenFlowErrorCode code)
        {
            return WireCodes[(int)code];
        }

        /// <summary>Creates an exception; <paramref name="serverMessage"/> is the server's own text, kept verbatim (redacted).</summary>
        public OpenFlowException(OpenFlowErrorCode code, string message, string command = null, string id = null,
            string serverMessage = null, string pointer = null, string reason = null, Exception inner = null)
            : base(message, inner)
        {
            Code = code;
            Command = command;
            Id = id;
            ServerMessage = serverMessage;
            Pointer = pointer;
            Reason = reason;
        }

        /// <summary>What went wrong.</summary>
        public OpenFlowErrorCode Code { get; private set; }

        /// <summary>The code as the TypeScript runtime spells it.</summary>
        public string WireCode
        {
            get { return WireCodeOf(Code); }
        }

        /// <summary>Wire command the error belongs to, when known.</summary>
        public string Command { get; private set; }

        /// <summary>Frame id of the message concerned, when known.</summary>
        public string Id { get; private set; }

        /// <summary>The server's error text, for server, auth, rate-limited and unsupported.</summary>
        public string ServerMessage { get; private set; }

        /// <summary>JSON pointer of the offending frame field (protocol errors).</summary>
        public string Pointer { get; private set; }

        /// <summary>Why the reassembler refused a frame (count-invalid, index-out-of-range, too-many-chunks, too-large, too-many-partial, chunk-mismatch, chunk-duplicate).</summary>
        public string Reason { get; private set; }
    }
}
