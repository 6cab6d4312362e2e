// Hand-written runtime of the C# client (not generated). C# 7.2, Newtonsoft.Json 6.0.8 to 13.x.
using System;
using System.Collections.Generic;
using System.Reflection;
using System.Runtime.Serialization;
using Newtonsoft.Json;

namespace OpenFlowSpec
{
    /// <summary>
    /// Reads and writes the generated enums by their wire values (<see cref="EnumMemberAttribute"/>). Tolerant on the
    /// wire: a value outside the closed set, or a value of another JSON type, reads as null instead of failing the whole
    /// message (every generated enum property is nullable). Written by hand rather than StringEnumConverter because that
    /// class's options differ between Newtonsoft.Json 6 and 13.
    /// </summary>
    public sealed class WireEnumConverter : JsonConverter
    {
        private static readonly Dictionary<Type, KeyValuePair<Dictionary<string, object>, Dictionary<object, string>>> Tables =
            new Dictionary<Type, KeyValuePair<Dictionary<string, object>, Dictionary<object, string>>>();

        private static KeyValuePair<Dictionary<string, object>, Dictionary<object, string>> TableOf(Type enumType)
        {
            lock (Tables)
            {
                KeyValuePair<Dictionary<string, object>, Dictionary<object, string>> table;
                if (Tables.TryGetValue(enumType, out table)) return table;
                var byWire = new Dictionary<string, object>(StringComparer.Ordinal);
                var byValue = new Dictionary<object, string>();
                foreach (var field in enumType.GetFields(BindingFlags.Public | BindingFlags.Static))
                {
                    var value = field.GetValue(null);
                    var member = (EnumMemberAttribute)Attribute.GetCustomAttribute(field, typeof(EnumMemberAttribute));
                    var wire = member != null && member.Value != null ? member.Value : field.Name;
                    byWire[wire] = value;
                    byValue[value] = wire;
                }
                table = new KeyValuePair<Dictionary<string, object>, Dictionary<object, string>>(byWire, byValue);
                Tables[enumType] = table;
                return table;
            }
        }

        private static Type EnumTypeOf(Type objectType)
        {
            var underlying = Nullable.GetUnderlyingType(objectType);
            return underlying ?? objectType;
        }

        /// <inheritdoc />
        public override bool CanConvert(Type objectType)
        {
            return EnumTypeOf(objectType).IsEnum;
        }

        /// <inheritdoc />
        public override object ReadJson(JsonReader reader, Type objectType, object existingValue, JsonSerializer serializer)
        {
            var enumType = EnumTypeOf(objectType);
            var nullable = enumType != objectType;
            if (reader.TokenType == JsonToken.String)
            {
                object value;
                if (TableOf(enumType).Key.TryGetValue((string)reader.Value, out value)) return value;
            }
            else if (reader.TokenType == JsonToken.StartObject || reader.TokenType == JsonToken.StartArray)
            {
                reader.Skip();
            }
            return nullable ? null : Activator.CreateInstance(enumType);
        }

        /// <inheritdoc />
        public override void WriteJson(JsonWriter writer, object value, JsonSerializer serializer)
        {
            if (value == null)
            {
                writer.WriteNull();
                return;
            }
            string wire;
            if (!TableOf(value.GetType()).Value.TryGetValue(value, out wire)) wire = value.ToString();
            writer.WriteValue(wire);
        }
    }
}
