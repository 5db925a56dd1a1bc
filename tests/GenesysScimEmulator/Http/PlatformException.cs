namespace GenesysScimEmulator.Http;

/// <summary>A Genesys platform error (ErrorBody, numeric status): 401, 403, 404 of unknown routes,
/// 405, 413, 415, 429, 5xx.</summary>
public sealed class PlatformException : Exception
{
    public PlatformException()
        : this(500, "internal.server.error", "The server encountered an internal error.")
    {
    }

    public PlatformException(string message)
        : this(500, "internal.server.error", message)
    {
    }

    public PlatformException(string message, Exception innerException)
        : base(message, innerException)
    {
        Status = 500;
        Code = "internal.server.error";
    }

    public PlatformException(int status, string code, string message, int? retryAfterSeconds = null)
        : base(message)
    {
        Status = status;
        Code = code;
        RetryAfterSeconds = retryAfterSeconds;
    }

    public int Status { get; }

    public string Code { get; }

    public int? RetryAfterSeconds { get; }
}
