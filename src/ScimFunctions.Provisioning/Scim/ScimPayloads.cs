using System.Text.Json.Nodes;

namespace ScimFunctions.Provisioning.Scim;

/// <summary>Request bodies: PATCH documents, member chunks and resource bodies trimmed to what the target accepts.</summary>
internal static class ScimPayloads
{
    private const string UrnPrefix = "urn:";

    /// <summary><c>{"schemas":[PatchOp],"Operations":[…]}</c>: capital O, lower-case ops, no value on remove.</summary>
    public static JsonObject PatchBody(IEnumerable<ScimPatchOperation> operations)
    {
        var list = new JsonArray();
        foreach (var operation in operations)
        {
            var op = new JsonObject { [ScimAttributes.Op] = operation.Op.ToLowerInvariant() };
            if (operation.Path is not null)
            {
                op[ScimAttributes.Path] = operation.Path;
            }

            // A remove normally has no value; Entra's member removal carries one, so keep whatever was given.
            if (operation.Value is not null)
            {
                op[ScimAttributes.Value] = operation.Value.DeepClone();
            }

            list.Add(op);
        }

        return new JsonObject
        {
            [ScimAttributes.Schemas] = new JsonArray(ScimSchemas.PatchOp),
            [ScimAttributes.Operations] = list,
        };
    }

    /// <summary>Member changes as PATCH requests of at most <paramref name="chunkSize"/> member values each.
    /// Removals come first; consecutive values of one kind share an operation
    /// (<c>path:"members"</c>, <c>value:[{"value":id}]</c>); with <paramref name="removeByFilter"/> each removal is
    /// its own <c>members[value eq "id"]</c> operation.</summary>
    public static IReadOnlyList<IReadOnlyList<ScimPatchOperation>> MemberChunks(
        IReadOnlyCollection<string> add, IReadOnlyCollection<string> remove, int chunkSize, bool removeByFilter)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        var changes = remove.Distinct(StringComparer.Ordinal).Select(id => (Op: ScimPatchOps.Remove, Id: id))
            .Concat(add.Distinct(StringComparer.Ordinal).Select(id => (Op: ScimPatchOps.Add, Id: id)));

        var requests = new List<IReadOnlyList<ScimPatchOperation>>();
        foreach (var chunk in changes.Chunk(chunkSize))
        {
            var operations = new List<ScimPatchOperation>();
            foreach (var run in Runs(chunk))
            {
                if (run.Op == ScimPatchOps.Remove && removeByFilter)
                {
                    operations.AddRange(run.Ids.Select(id => new ScimPatchOperation(
                        ScimPatchOps.Remove, $"{ScimAttributes.Members}[{ScimAttributes.Value} eq \"{ScimFilter.Escape(id)}\"]", null)));
                }
                else
                {
                    var values = new JsonArray();
                    foreach (var id in run.Ids)
                    {
                        values.Add(new JsonObject { [ScimAttributes.Value] = id });
                    }

                    operations.Add(new ScimPatchOperation(run.Op, ScimAttributes.Members, values));
                }
            }

            requests.Add(operations);
        }

        return requests;
    }

    private static IEnumerable<(string Op, List<string> Ids)> Runs(IEnumerable<(string Op, string Id)> chunk)
    {
        (string Op, List<string> Ids)? current = null;
        foreach (var (op, id) in chunk)
        {
            if (current is { } run && run.Op == op)
            {
                run.Ids.Add(id);
                continue;
            }

            if (current is not null)
            {
                yield return current.Value;
            }

            current = (op, [id]);
        }

        if (current is not null)
        {
            yield return current.Value;
        }
    }

    /// <summary>A copy of a user body with only the schemas the target accepts, <c>schemas</c> recomputed from
    /// the content, and for a replace the read-only attributes a GET returns (<c>id</c>, <c>meta</c>, <c>groups</c>,
    /// <c>password</c>) removed (U14).</summary>
    public static JsonObject PrepareUser(JsonObject user, IReadOnlySet<string> supportedSchemas, bool forReplace)
    {
        var copy = (JsonObject)user.DeepClone();
        copy.Remove(ScimAttributes.Schemas);
        copy.Remove(ScimAttributes.Meta);
        copy.Remove(ScimAttributes.Groups);
        if (forReplace)
        {
            copy.Remove(ScimAttributes.Id);
            copy.Remove(ScimAttributes.Password);
        }

        var schemas = new JsonArray(ScimSchemas.User);
        foreach (var key in copy.Select(p => p.Key).ToList())
        {
            if (!key.StartsWith(UrnPrefix, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (IsSupported(key, supportedSchemas))
            {
                schemas.Add(key);
            }
            else
            {
                copy.Remove(key);
            }
        }

        copy.Insert(0, ScimAttributes.Schemas, schemas);
        return copy;
    }

    /// <summary>A copy of a group body for PUT: no <c>meta</c>, schemas set to the core Group schema.</summary>
    public static JsonObject PrepareGroup(JsonObject group)
    {
        var copy = (JsonObject)group.DeepClone();
        copy.Remove(ScimAttributes.Schemas);
        copy.Remove(ScimAttributes.Meta);
        copy.Insert(0, ScimAttributes.Schemas, new JsonArray(ScimSchemas.Group));
        return copy;
    }

    /// <summary>Drops operations on a user's read-only <c>groups</c> and on extension schemas the target does not
    /// accept (e.g. the Genesys extension on a plain SCIM server), and strips such extensions from path-less values.</summary>
    public static List<ScimPatchOperation> FilterOperations(IReadOnlyList<ScimPatchOperation> operations, IReadOnlySet<string> supportedSchemas)
    {
        var kept = new List<ScimPatchOperation>(operations.Count);
        foreach (var operation in operations)
        {
            if (operation.Path is { } path)
            {
                // A user's groups are read-only (U14): membership goes through /groups only.
                if (path.Equals(ScimAttributes.Groups, StringComparison.OrdinalIgnoreCase)
                    || path.StartsWith(ScimAttributes.Groups + "[", StringComparison.OrdinalIgnoreCase)
                    || path.StartsWith(ScimAttributes.Groups + ".", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                if (!path.StartsWith(UrnPrefix, StringComparison.OrdinalIgnoreCase) || supportedSchemas.Any(s => path.StartsWith(s, StringComparison.OrdinalIgnoreCase)))
                {
                    kept.Add(operation);
                }

                continue;
            }

            if (operation.Value is JsonObject value)
            {
                var trimmed = (JsonObject)value.DeepClone();
                trimmed.Remove(ScimAttributes.Groups);
                foreach (var key in trimmed.Select(p => p.Key).Where(k => k.StartsWith(UrnPrefix, StringComparison.OrdinalIgnoreCase) && !IsSupported(k, supportedSchemas)).ToList())
                {
                    trimmed.Remove(key);
                }

                if (trimmed.Count > 0)
                {
                    kept.Add(operation with { Value = trimmed });
                }

                continue;
            }

            kept.Add(operation);
        }

        return kept;
    }

    private static bool IsSupported(string schema, IReadOnlySet<string> supportedSchemas) =>
        supportedSchemas.Contains(schema) || supportedSchemas.Any(s => string.Equals(s, schema, StringComparison.OrdinalIgnoreCase));
}
