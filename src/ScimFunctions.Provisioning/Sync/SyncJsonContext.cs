using System.Text.Json;
using System.Text.Json.Serialization;

namespace ScimFunctions.Provisioning.Sync;

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(List<AttributeMappingRule>))]
internal sealed partial class SyncJsonContext : JsonSerializerContext;
