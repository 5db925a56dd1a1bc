using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace GenesysScimEmulator.State;

/// <summary>The settings in force. Starts from the configured <see cref="EmulatorOptions"/> and can be
/// changed at run time (admin API, tests); <see cref="Reset"/> goes back to the configured values.</summary>
public sealed class EmulatorSettings(IOptions<EmulatorOptions> options)
{
    private EmulatorOptions current = options.Value.Clone();

    /// <summary>A snapshot; read it once per request. Never mutate it: use <see cref="Update"/>.</summary>
    public EmulatorOptions Current => Volatile.Read(ref current);

    /// <summary>Applies <paramref name="change"/> to a copy, validates it and swaps it in.</summary>
    public EmulatorOptions Update(Action<EmulatorOptions> change)
    {
        var next = Current.Clone();
        change(next);
        return Replace(next);
    }

    /// <summary>Validates <paramref name="next"/> and makes it current.</summary>
    public EmulatorOptions Replace(EmulatorOptions next)
    {
        var problems = new List<ValidationResult>();
        if (!Validator.TryValidateObject(next, new ValidationContext(next), problems, validateAllProperties: true))
        {
            throw new ArgumentException(string.Join(" ", problems.Select(p => p.ErrorMessage)), nameof(next));
        }

        Volatile.Write(ref current, next);
        return next;
    }

    public void Reset() => Volatile.Write(ref current, options.Value.Clone());
}
