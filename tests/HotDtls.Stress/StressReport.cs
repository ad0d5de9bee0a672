using System.Globalization;
using System.Text.Json;

namespace HotDtls.Stress;

/// <summary>
/// Figures and pass/fail checks of one run, printed as text (default) or one JSON object (--json). The exit code is
/// 0 only if every check passed.
/// </summary>
internal sealed class StressReport
{
    private readonly string _name;
    private readonly List<(string Key, object Value)> _figures = [];
    private readonly List<(string Name, bool Passed, string Detail)> _checks = [];

    public StressReport(string name) => _name = name;

    public bool Passed => _checks.TrueForAll(static c => c.Passed);

    public void Section(string title) => _figures.Add(("#" + title, ""));

    public void Add(string key, object value) => _figures.Add((key, value));

    public void Check(string name, bool passed, string detail) => _checks.Add((name, passed, detail));

    /// <summary>Prints the report and returns the exit code.</summary>
    public int Print(bool json)
    {
        if (json)
        {
            PrintJson();
        }
        else
        {
            PrintText();
        }
        return Passed ? 0 : 1;
    }

    private void PrintText()
    {
        Console.WriteLine();
        Console.WriteLine($"== HotDtls {_name} report ==");
        foreach (var (key, value) in _figures)
        {
            if (key.StartsWith('#'))
            {
                Console.WriteLine();
                Console.WriteLine($"-- {key[1..]} --");
                continue;
            }
            Console.WriteLine($"  {key,-46} {Format(value)}");
        }
        Console.WriteLine();
        Console.WriteLine("-- checks --");
        foreach (var (name, passed, detail) in _checks)
        {
            Console.WriteLine($"  [{(passed ? "PASS" : "FAIL")}] {name}: {detail}");
        }
        Console.WriteLine();
        Console.WriteLine(Passed ? $"{_name}: all checks passed" : $"{_name}: FAILED");
    }

    private void PrintJson()
    {
        using var stream = Console.OpenStandardOutput();
        using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        writer.WriteStartObject();
        writer.WriteString("scenario", _name);
        writer.WriteBoolean("passed", Passed);
        writer.WriteStartObject("figures");
        var section = "";
        foreach (var (key, value) in _figures)
        {
            if (key.StartsWith('#'))
            {
                section = key[1..] + ": ";
                continue;
            }
            switch (value)
            {
                case long number:
                    writer.WriteNumber(section + key, number);
                    break;
                case int number:
                    writer.WriteNumber(section + key, number);
                    break;
                case double number when !double.IsFinite(number):
                    writer.WriteNull(section + key);
                    break;
                case double number:
                    writer.WriteNumber(section + key, Math.Round(number, 4));
                    break;
                default:
                    writer.WriteString(section + key, Format(value));
                    break;
            }
        }
        writer.WriteEndObject();
        writer.WriteStartArray("checks");
        foreach (var (name, passed, detail) in _checks)
        {
            writer.WriteStartObject();
            writer.WriteString("name", name);
            writer.WriteBoolean("passed", passed);
            writer.WriteString("detail", detail);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.Flush();
        stream.WriteByte((byte)'\n');
    }

    private static string Format(object value) => value switch
    {
        double number => number.ToString("0.###", CultureInfo.InvariantCulture),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
