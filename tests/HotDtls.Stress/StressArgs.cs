using System.Globalization;

namespace HotDtls.Stress;

/// <summary>"--name value" and "--flag" options; an unknown option is an error, so a typo never runs the default.</summary>
internal sealed class StressArgs
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);

    private StressArgs()
    {
    }

    public static StressArgs? Parse(string[] args, string[] flags, string[] valued, out string? error)
    {
        var result = new StressArgs();
        error = null;
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            if (Array.IndexOf(flags, name) >= 0)
            {
                result._values[name] = null;
            }
            else if (Array.IndexOf(valued, name) >= 0 && i + 1 < args.Length)
            {
                result._values[name] = args[++i];
            }
            else
            {
                error = Array.IndexOf(valued, name) >= 0 ? $"{name} needs a value" : $"unknown option {name}";
                return null;
            }
        }
        return result;
    }

    public bool Has(string name) => _values.ContainsKey(name);

    public long Long(string name, long fallback)
    {
        if (!_values.TryGetValue(name, out var text) || text is null)
        {
            return fallback;
        }
        return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= 0
            ? value
            : throw new ArgumentException($"{name} takes a non-negative whole number, not '{text}'.");
    }
}
