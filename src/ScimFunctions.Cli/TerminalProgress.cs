using System.Globalization;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.Cli;

/// <summary>One self-overwriting status line on a terminal's standard error: phase, counts and rate.
/// Reports arrive on the engine's threads, so writes are serialised and throttled.</summary>
internal sealed class TerminalProgress(TextWriter error, TimeProvider time) : IProgress<SyncProgress>
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);
    private readonly Lock _gate = new();
    private string? _phase;
    private long _phaseStarted;
    private long _lastWrite;
    private int _lastLength;

    public void Report(SyncProgress value)
    {
        lock (_gate)
        {
            var now = time.GetTimestamp();
            if (value.Phase != _phase)
            {
                _phase = value.Phase;
                _phaseStarted = now;
            }
            else if (time.GetElapsedTime(_lastWrite, now) < Interval && value.Done < value.Total)
            {
                return;
            }

            _lastWrite = now;
            var seconds = time.GetElapsedTime(_phaseStarted, now).TotalSeconds;
            var rate = seconds > 0.5 ? string.Create(CultureInfo.InvariantCulture, $", {value.Done / seconds:0}/s") : "";
            var percent = value.Total > 0 ? string.Create(CultureInfo.InvariantCulture, $" ({100L * value.Done / value.Total} %)") : "";
            var text = string.Create(CultureInfo.InvariantCulture, $"{value.Phase}: {value.Done}/{value.Total}{percent}{rate}");
            error.Write('\r' + text.PadRight(_lastLength));
            _lastLength = text.Length;
            error.Flush();
        }
    }

    /// <summary>Clears the status line so the summary starts on a clean line.</summary>
    public void Clear()
    {
        lock (_gate)
        {
            if (_lastLength > 0)
            {
                error.Write('\r' + new string(' ', _lastLength) + '\r');
                error.Flush();
                _lastLength = 0;
            }
        }
    }
}
