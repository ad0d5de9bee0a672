using System.Text;

namespace HotDtls.Diagnostics;

/// <summary>Makes peer-chosen text safe to put in a log line.</summary>
internal static class LogText
{
    /// <summary>
    /// Escapes control characters (so a peer cannot forge log lines with newlines or terminal escapes) and cuts the
    /// text to <paramref name="maxLength"/> characters, marking the cut.
    /// </summary>
    public static string Printable(string text, int maxLength)
    {
        var needsWork = text.Length > maxLength;
        foreach (var c in text)
        {
            needsWork |= char.IsControl(c);
        }
        if (!needsWork)
        {
            return text;
        }
        var builder = new StringBuilder(Math.Min(text.Length, maxLength) + 16);
        for (var i = 0; i < text.Length && i < maxLength; i++)
        {
            var c = text[i];
            if (char.IsControl(c))
            {
                builder.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append(c);
            }
        }
        if (text.Length > maxLength)
        {
            builder.Append("… (").Append(text.Length).Append(" characters)");
        }
        return builder.ToString();
    }
}
