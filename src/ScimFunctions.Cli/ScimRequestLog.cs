using System.Globalization;

namespace ScimFunctions.Cli;

/// <summary>Records the requests sent to the SCIM target while enabled, for <c>scimfn provision</c> to show what a
/// convergence took. Paths only: a query string (a filter can name a userName) is shown by its parameter names.</summary>
internal sealed class ScimRequestLog(string? scimBaseUrl)
{
    private readonly List<string> requests = [];
    private bool recording;

    public void Start()
    {
        lock (requests)
        {
            requests.Clear();
            recording = true;
        }
    }

    public IReadOnlyList<string> Stop()
    {
        lock (requests)
        {
            recording = false;
            return [.. requests];
        }
    }

    public DelegatingHandler Handler() => new Recorder(this);

    private void Record(HttpRequestMessage request, HttpResponseMessage? response)
    {
        var uri = request.RequestUri;
        if (uri is null || scimBaseUrl is null || !uri.AbsoluteUri.StartsWith(scimBaseUrl.TrimEnd('/'), StringComparison.OrdinalIgnoreCase))
        {
            // The Genesys Cloud token endpoint and anything else that is not the SCIM API.
            return;
        }

        var basePath = new Uri(scimBaseUrl).AbsolutePath.TrimEnd('/');
        var path = uri.AbsolutePath.StartsWith(basePath, StringComparison.OrdinalIgnoreCase) ? uri.AbsolutePath[basePath.Length..] : uri.AbsolutePath;
        var query = uri.Query.Length > 1
            ? "?" + string.Join("&", uri.Query[1..].Split('&').Select(p => p.Split('=')[0] + "=…"))
            : "";
        var status = response is null ? "no answer" : ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
        lock (requests)
        {
            if (recording)
            {
                requests.Add($"{request.Method.Method} {path}{query} {status}");
            }
        }
    }

    private sealed class Recorder(ScimRequestLog log) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            HttpResponseMessage? response = null;
            try
            {
                response = await base.SendAsync(request, cancellationToken);
                return response;
            }
            finally
            {
                log.Record(request, response);
            }
        }
    }
}
