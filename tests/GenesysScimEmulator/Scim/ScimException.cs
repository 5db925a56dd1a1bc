namespace GenesysScimEmulator.Scim;

/// <summary>A SCIM error answer (RFC 7644 §3.12 body, <c>status</c> as a string). Thrown by the model,
/// patch and filter code and written by <see cref="Http.ErrorBodyMiddleware"/>.</summary>
public sealed class ScimException : Exception
{
    public ScimException()
        : this(500, null, "SCIM error")
    {
    }

    public ScimException(string message)
        : this(400, ScimTypes.InvalidValue, message)
    {
    }

    public ScimException(string message, Exception innerException)
        : base(message, innerException)
    {
        Status = 400;
        ScimType = ScimTypes.InvalidSyntax;
    }

    public ScimException(int status, string? scimType, string detail)
        : base(detail)
    {
        Status = status;
        ScimType = scimType;
    }

    public int Status { get; }

    public string? ScimType { get; }

    public static ScimException InvalidValue(string detail) => new(400, ScimTypes.InvalidValue, detail);

    public static ScimException Mutability(string detail) => new(400, ScimTypes.Mutability, detail);

    public static ScimException InvalidPath(string detail) => new(400, ScimTypes.InvalidPath, detail);

    public static ScimException InvalidSyntax(string detail) => new(400, ScimTypes.InvalidSyntax, detail);

    public static ScimException InvalidFilter(string detail) => new(400, ScimTypes.InvalidFilter, detail);

    public static ScimException NotFound(string detail) => new(404, null, detail);
}
