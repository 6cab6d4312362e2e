// Hand-written runtime of the C# client (not generated). C# 7.2, Newtonsoft.Json 6.0.8 to 13.x.
using System;
using System.Globalization;
using System.IO;
using System.Text;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace OpenFlowSpec
{
    /// <summary>
    /// The JSON settings of the wire. Dates are never parsed (an ISO string stays the string it was, so a message
    /// round-trips unchanged; Newtonsoft's default would turn it into a DateTime and rewrite it), unset properties are
    /// omitted, unknown ones go to each class's ExtensionData. Only options Newtonsoft.Json 6.0.8 and 13.x share.
    /// </summary>
    public static class WireJson
    {
        /// <summary>Settings for payloads.</summary>
        public static JsonSerializerSettings Settings()
        {
            return new JsonSerializerSettings
            {
                DateParseHandling = DateParseHandling.None,
                NullValueHandling = NullValueHandling.Ignore,
                MissingMemberHandling = MissingMemberHandling.Ignore,
                Formatting = Formatting.None,
                Culture = CultureInfo.InvariantCulture,
            };
        }

        /// <summary>A serializer with <see cref="Settings"/>.</summary>
        public static readonly JsonSerializer Serializer = JsonSerializer.Create(Settings());

        /// <summary>
        /// Parses JSON text into a token without turning date-like strings into dates, keeping lone surrogates.
        /// </summary>
        public static JToken Parse(string text)
        {
            using (var reader = new JsonTextReader(new StringReader(KeepLoneSurrogates(text))))
            {
                reader.DateParseHandling = DateParseHandling.None;
                reader.FloatParseHandling = FloatParseHandling.Double;
                var token = JToken.ReadFrom(reader);
                while (reader.Read())
                {
                    if (reader.TokenType != JsonToken.Comment) throw new JsonReaderException("additional text after the JSON value");
                }
                return token;
            }
        }

        private static bool IsHex(string s, int at)
        {
            if (at + 4 > s.Length) return false;
            for (var i = at; i < at + 4; i++)
            {
                var c = s[i];
                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
            }
            return true;
        }

        private static int EscapedUnit(string s, int at)
        {
            return at + 6 <= s.Length && s[at] == '\\' && s[at + 1] == 'u' && IsHex(s, at + 2)
                ? int.Parse(s.Substring(at + 2, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture)
                : -1;
        }

        /// <summary>
        /// Newtonsoft.Json reads an escaped lone surrogate (<c>\ud83d</c> not followed by a low half) as U+FFFD. A JS peer
        /// writes exactly that when its chunking split a pair (docs/protocol.md#q4), and joining the chunks' strings
        /// recovers the character only if each half survived. So an unpaired escaped half is put in as the raw UTF-16
        /// unit, which the reader keeps.
        /// </summary>
        public static string KeepLoneSurrogates(string text)
        {
            if (text.IndexOf("\\ud", StringComparison.OrdinalIgnoreCase) < 0) return text;
            StringBuilder sb = null;
            var copied = 0;
            for (var i = 0; i < text.Length; i++)
            {
                if (text[i] != '\\') continue;
                var unit = EscapedUnit(text, i);
                if (unit < 0)
                {
                    i++; // any other escape, including an escaped backslash
                    continue;
                }
                if (unit >= 0xD800 && unit <= 0xDBFF)
                {
                    var next = EscapedUnit(text, i + 6);
                    if (next >= 0xDC00 && next <= 0xDFFF)
                    {
                        i += 11; // a proper pair: leave it to the reader
                        continue;
                    }
                }
                else if (unit < 0xDC00 || unit > 0xDFFF)
                {
                    i += 5;
                    continue;
                }
                if (sb == null) sb = new StringBuilder(text.Length);
                sb.Append(text, copied, i - copied).Append((char)unit);
                copied = i + 6;
                i += 5;
            }
            if (sb == null) return text;
            return sb.Append(text, copied, text.Length - copied).ToString();
        }

        /// <summary>Compact JSON text of a value (a payload object, or a token).</summary>
        public static string Serialize(object value)
        {
            var sb = new StringBuilder();
            using (var writer = new JsonTextWriter(new StringWriter(sb, CultureInfo.InvariantCulture)))
            {
                writer.Formatting = Formatting.None;
                Serializer.Serialize(writer, value);
            }
            return sb.ToString();
        }

        /// <summary>A token as a typed payload (a JSON null or a missing payload gives an empty instance).</summary>
        public static T ToObject<T>(JToken token) where T : class
        {
            if (token == null || token.Type == JTokenType.Null) token = new JObject();
            return token.ToObject<T>(Serializer);
        }

        /// <summary>A typed payload as a token.</summary>
        public static JToken FromObject(object value)
        {
            if (value == null) return new JValue((object)null);
            var token = value as JToken;
            return token ?? JToken.FromObject(value, Serializer);
        }
    }
}
