// Hand-written runtime of the C# client (not generated). C# 7.2, Newtonsoft.Json 6.0.8 to 13.x.
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

        /// <summary>Parses JSON text into a token without turning date-like strings into dates.</summary>
        public static JToken Parse(string text)
        {
            using (var reader = new JsonTextReader(new StringReader(text)))
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
