// Hand-written runtime of the C# client (not generated). C# 7.2, Newtonsoft.Json 6.0.8 to 13.x.
using System.Text.RegularExpressions;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace OpenFlowSpec
{
    /// <summary>
    /// Turning a reply into a result or an error, for both server styles (docs/protocol.md#error-detection): a reply is
    /// a failure when its command is <c>error</c> or its payload has a non-empty <c>error</c>; the text is
    /// <c>error</c>, else <c>message</c>, else the raw data (which may not be JSON, Q6).
    /// </summary>
    public static class Replies
    {
        private static readonly Regex AuthText = new Regex(
            @"unknown username or password|failed logging in|missing jwt|invalid or expired jwt|not signed in|jwt (?:expired|malformed)|invalid signature|failed resolving token|disabled users? |not validated|token expired",
            RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        private static readonly Regex UnknownCommandText = new Regex(@"^\s*unknown (?:custom )?command\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        private static readonly Regex RateLimitText = new Regex("rate limit exceeded", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        private static readonly Regex JwtPattern = new Regex(@"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*", RegexOptions.CultureInvariant);
        private static readonly Regex SecretJsonPattern = new Regex(@"(""(?:password|jwt|__jwt|rawAssertion|token)""\s*:\s*)""(?:[^""\\]|\\.)*""", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

        /// <summary>Replaces tokens and secret JSON fields in a text (what the TypeScript runtime's redactText does).</summary>
        public static string Redact(string text)
        {
            return SecretJsonPattern.Replace(JwtPattern.Replace(text, "[redacted]"), "$1\"[redacted]\"");
        }

        /// <summary>Maps a server error text to a code (docs/protocol.md#error-detection).</summary>
        public static OpenFlowErrorCode Classify(string text, string requestCommand)
        {
            if (UnknownCommandText.IsMatch(text)) return OpenFlowErrorCode.Unsupported;
            if (RateLimitText.IsMatch(text)) return OpenFlowErrorCode.RateLimited;
            if (string.Equals(requestCommand, "signin", System.StringComparison.OrdinalIgnoreCase) || AuthText.IsMatch(text)) return OpenFlowErrorCode.Auth;
            return OpenFlowErrorCode.Server;
        }

        /// <summary>The exception for a server error text: the server's message (redacted) kept as ServerMessage.</summary>
        public static OpenFlowException ServerError(string text, string requestCommand, string id)
        {
            var clean = Redact(text);
            return new OpenFlowException(Classify(clean, requestCommand), requestCommand + ": " + clean, command: requestCommand, id: id, serverMessage: clean);
        }

        private static string ErrorText(JToken value)
        {
            if (value == null) return null;
            switch (value.Type)
            {
                case JTokenType.Null:
                case JTokenType.Undefined:
                    return null;
                case JTokenType.Boolean:
                    return (bool)value ? "true" : null;
                case JTokenType.String:
                    var s = (string)value;
                    return s.Length == 0 ? null : s;
                case JTokenType.Object:
                    var obj = (JObject)value;
                    var message = obj["message"];
                    if (message != null && message.Type == JTokenType.String && ((string)message).Length > 0) return (string)message;
                    if (!obj.HasValues) return null;
                    return obj.ToString(Formatting.None);
                case JTokenType.Array:
                    return value.HasValues ? value.ToString(Formatting.None) : null;
                default:
                    return value.ToString(Formatting.None);
            }
        }

        /// <summary>
        /// Interprets a reply to a request of <paramref name="requestCommand"/>: the payload (JSON null for an empty
        /// one) on success, otherwise throws the OpenFlowException (server, auth, rate-limited, unsupported, protocol).
        /// </summary>
        public static JToken Interpret(WireMessage message, string requestCommand)
        {
            var isError = string.Equals(message.Command, "error", System.StringComparison.OrdinalIgnoreCase);
            JToken payload;
            if (string.IsNullOrEmpty(message.Data)) payload = new JValue((object)null);
            else
            {
                try
                {
                    payload = WireJson.Parse(message.Data);
                }
                catch (JsonException e)
                {
                    if (isError)
                    {
                        var raw = message.Data.Length > 10000 ? message.Data.Substring(0, 10000) : message.Data;
                        throw ServerError(raw, requestCommand, message.ReplyTo);
                    }
                    throw new OpenFlowException(OpenFlowErrorCode.Protocol, requestCommand + ": reply data is not JSON (" + e.Message + ")", command: requestCommand, id: message.ReplyTo);
                }
            }
            var fields = payload as JObject;
            var text = fields == null ? null : ErrorText(fields["error"]);
            if (text != null) throw ServerError(text, requestCommand, message.ReplyTo);
            if (isError)
            {
                var fallback = fields == null ? null : ErrorText(fields["message"]);
                if (fallback == null && payload.Type == JTokenType.String && ((string)payload).Length > 0) fallback = (string)payload;
                throw ServerError(fallback ?? "error reply without a message", requestCommand, message.ReplyTo);
            }
            return payload;
        }
    }
}
