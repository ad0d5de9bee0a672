using System.Buffers;
using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace HotDtls.Hosting;

/// <summary>
/// Reads the keys of one configuration section by name, each into a typed value, and collects every problem as a
/// message that starts with the key's full path. It remembers which keys it was asked for, so that a key nobody asked
/// for (a typo) is reported too.
/// </summary>
/// <remarks>
/// Values of keys marked secret never appear in a message; neither does the value of an unknown key, which may be a
/// secret under a misspelt name.
/// </remarks>
internal sealed class ConfigurationReader
{
    private readonly IConfiguration _section;
    private readonly string _prefix;
    private readonly List<string> _errors;
    private readonly List<string> _known = [];

    public ConfigurationReader(IConfiguration section, List<string> errors)
    {
        _section = section;
        _errors = errors;
        // A root (IConfigurationRoot) has no path; its keys are named on their own.
        _prefix = section is IConfigurationSection { Path: { Length: > 0 } path } ? path + ":" : "";
    }

    /// <summary>The full path of <paramref name="key"/>, as messages name it.</summary>
    public string PathOf(string key) => _prefix + key;

    public void Error(string key, string message) => _errors.Add($"{PathOf(key)}: {message}");

    /// <summary>A problem with the section itself rather than one of its keys.</summary>
    public void SectionError(string message) => _errors.Add($"{_prefix.TrimEnd(':')}: {message}");

    /// <summary>A sub-section read by its own reader (same error list); marks <paramref name="key"/> as known.</summary>
    public ConfigurationReader Section(string key)
    {
        _known.Add(key);
        return new ConfigurationReader(_section.GetSection(key), _errors);
    }

    /// <summary>The section's own value (a section that should have children but was given one value).</summary>
    public string? Value => (_section as IConfigurationSection)?.Value;

    /// <summary>The section's children, for sections whose keys are data (identities) rather than setting names.</summary>
    public IEnumerable<IConfigurationSection> Children() => _section.GetChildren();

    /// <summary>Whether the section holds <paramref name="key"/> with a value or children.</summary>
    public bool Exists(string key) => _section.GetSection(key).Exists();

    /// <summary>The value of <paramref name="key"/>, or <see langword="null"/> when absent (the option keeps its value).</summary>
    public string? String(string key)
    {
        _known.Add(key);
        var section = _section.GetSection(key);
        if (section.Value is null && section.GetChildren().Any())
        {
            Error(key, "expected a single value, found a section.");
            return null;
        }
        return section.Value;
    }

    public void Int(string key, Action<int> set)
    {
        if (String(key) is { } text)
        {
            if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            {
                set(value);
            }
            else
            {
                Error(key, $"'{text}' is not a whole number.");
            }
        }
    }

    /// <summary>A number, or "null"/"none"/empty for <see langword="null"/>.</summary>
    public void NullableInt(string key, Action<int?> set)
    {
        if (String(key) is { } text)
        {
            if (IsNone(text))
            {
                set(null);
            }
            else if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            {
                set(value);
            }
            else
            {
                Error(key, $"'{text}' is not a whole number (or null for none).");
            }
        }
    }

    public void Byte(string key, Action<byte> set)
    {
        if (String(key) is { } text)
        {
            if (byte.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            {
                set(value);
            }
            else
            {
                Error(key, $"'{text}' is not a whole number from 0 to 255.");
            }
        }
    }

    public void Bool(string key, Action<bool> set)
    {
        if (String(key) is { } text)
        {
            if (bool.TryParse(text, out var value))
            {
                set(value);
            }
            else
            {
                Error(key, $"'{text}' is not true or false.");
            }
        }
    }

    /// <summary>"hh:mm:ss" (invariant TimeSpan format, "1.00:00:00" for a day), a number of seconds, or "Infinite".</summary>
    /// <summary>An endpoint in one of <see cref="EndPointText.Forms"/>.</summary>
    public void EndPoint(string key, Action<System.Net.IPEndPoint> set)
    {
        if (String(key) is not { } text)
        {
            return;
        }
        if (EndPointText.TryParse(text, out var parsed, out var problem))
        {
            set(parsed);
        }
        else
        {
            Error(key, $"'{text}': {problem}; write {EndPointText.Forms}.");
        }
    }

    public void Duration(string key, Action<TimeSpan> set)
    {
        if (String(key) is not { } text)
        {
            return;
        }
        if (text.Equals("Infinite", StringComparison.OrdinalIgnoreCase))
        {
            set(Timeout.InfiniteTimeSpan);
        }
        else if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
            && double.IsFinite(seconds) && Math.Abs(seconds) < TimeSpan.MaxValue.TotalSeconds)
        {
            set(TimeSpan.FromSeconds(seconds));
        }
        else if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var value))
        {
            set(value);
        }
        else
        {
            Error(key, $"'{text}' is not a duration: write \"00:00:30\" (hh:mm:ss), a number of seconds such as \"30\", or \"Infinite\".");
        }
    }

    /// <summary>An enum member by name (case-insensitive); numbers are refused so that a config reads as names.</summary>
    public void Enum<T>(string key, Action<T> set, string what) where T : struct, System.Enum
    {
        if (String(key) is { } text && TryParseName(key, text, what, out T value))
        {
            set(value);
        }
    }

    /// <summary>
    /// A list: children "0", "1"… (a JSON array) or one comma-separated value (handy in environment variables).
    /// Returns each item with the key that names it in messages, or <see langword="null"/> when the key is absent.
    /// </summary>
    public List<(string Key, string Value)>? List(string key)
    {
        _known.Add(key);
        var section = _section.GetSection(key);
        if (section.Value is { } joined)
        {
            var parts = joined.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            return [.. parts.Select(part => (key, part))];
        }
        var children = section.GetChildren().ToList();
        if (children.Count == 0)
        {
            return null;
        }
        var items = new List<(string, string)>(children.Count);
        for (var i = 0; i < children.Count; i++)
        {
            var child = children[i];
            var itemKey = $"{key}:{child.Key}";
            if (child.Key != i.ToString(CultureInfo.InvariantCulture))
            {
                Error(itemKey, "expected a list (items 0, 1, 2…).");
            }
            else if (child.Value is null)
            {
                Error(itemKey, "expected a single value, found a section.");
            }
            else
            {
                items.Add((itemKey, child.Value));
            }
        }
        return items;
    }

    /// <summary>Parses an enum member name for <see cref="Enum{T}"/> and list items; reports the valid names.</summary>
    public bool TryParseName<T>(string key, string text, string what, out T value) where T : struct, System.Enum
    {
        if (text.Length > 0 && !char.IsAsciiDigit(text[0]) && text[0] != '-'
            && System.Enum.TryParse(text, ignoreCase: true, out value) && System.Enum.IsDefined(value))
        {
            return true;
        }
        Error(key, $"'{text}' is not {what}; valid: {string.Join(", ", System.Enum.GetNames<T>())}.");
        value = default;
        return false;
    }

    /// <summary>
    /// Hex bytes of a secret, 1 to <paramref name="maxLength"/> bytes (or exactly <paramref name="exactLength"/>).
    /// Messages give the key and the length, never the value.
    /// </summary>
    public byte[]? SecretHex(string key, string text, int maxLength, int exactLength = 0)
    {
        var hex = text.AsSpan().Trim();
        var bytes = new byte[hex.Length / 2];
        if (hex.Length % 2 != 0
            || Convert.FromHexString(hex, bytes, out _, out _) != OperationStatus.Done)
        {
            Error(key, "is not hexadecimal (two digits 0-9a-f per byte, no prefix or separators); the value is not shown.");
            return null;
        }
        if (exactLength != 0 ? bytes.Length != exactLength : bytes.Length is 0 || bytes.Length > maxLength)
        {
            var wanted = exactLength != 0
                ? $"exactly {exactLength} bytes ({exactLength * 2} hex digits)"
                : $"1 to {maxLength} bytes (2 to {maxLength * 2} hex digits)";
            Error(key, $"must be {wanted}; this one has {bytes.Length} bytes. The value is not shown.");
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(bytes);
            return null;
        }
        return bytes;
    }

    /// <summary>Reports every key of the section that no read asked for.</summary>
    public void ReportUnknownKeys()
    {
        foreach (var child in _section.GetChildren())
        {
            if (!_known.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                Error(child.Key, $"is not a setting HotDtls knows (the value is not shown); known here: {string.Join(", ", _known)}.");
            }
        }
    }

    private static bool IsNone(string text)
        => text.Length == 0 || text.Equals("null", StringComparison.OrdinalIgnoreCase) || text.Equals("none", StringComparison.OrdinalIgnoreCase);
}
