using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;

namespace HotDtls.Hosting;

/// <summary>
/// The server's <c>Psk</c> section: the identity hint, and the keys as one key for every identity (<c>Psk:Key</c>, the
/// Qt example's behaviour) or a table (<c>Psk:Keys</c>), which becomes the options' <see cref="IPskStore"/>.
/// </summary>
/// <remarks>
/// Configuration keys are case-insensitive and cannot hold ':', so <c>Psk:Keys:&lt;identity&gt;</c> suits plain
/// identities; the list form (<c>Psk:Keys:0:Identity</c>, <c>Psk:Keys:0:Key</c>) takes any identity, compared exactly.
/// </remarks>
internal static class PskConfiguration
{
    private const string Key = "Key";
    private const string Keys = "Keys";

    public static void Read(ConfigurationReader psk, DtlsServerOptions options)
    {
        if (psk.Value is { Length: > 0 })
        {
            // "Psk": "1a2b…" would otherwise be ignored and surface later as "no keys".
            psk.SectionError("a section (IdentityHint, Key or Keys) was given a single value, which is not shown; "
                + "for one key for every identity write Psk:Key.");
        }
        if (psk.String("IdentityHint") is { } hint)
        {
            // Configuration cannot tell an empty string from no value; either means "send no hint".
            options.PskIdentityHint = hint.Length == 0 ? null : hint;
        }
        psk.Bool("RevealUnknownIdentity", value => options.RevealUnknownPskIdentity = value);

        var single = psk.String(Key);
        var table = ReadTable(psk);
        if (single is not null && table is not null)
        {
            psk.Error(Key, $"set either {psk.PathOf(Key)} (one key for every identity) or {psk.PathOf(Keys)} (a key per identity), not both.");
        }
        else if (single is not null && psk.SecretHex(Key, single, PskStore.MaxKeyLength) is { } key)
        {
            options.PskStore = PskStore.Single(key);
            CryptographicOperations.ZeroMemory(key);
        }
        else if (table is { Count: > 0 })
        {
            options.PskStore = PskStore.FromDictionary(table);
        }
        if (table is not null)
        {
            // PskStore.FromDictionary copied them.
            foreach (var value in table.Values)
            {
                CryptographicOperations.ZeroMemory(value);
            }
        }
        psk.ReportUnknownKeys();
    }

    private static Dictionary<string, byte[]>? ReadTable(ConfigurationReader psk)
    {
        var section = psk.Section(Keys);
        if (!psk.Exists(Keys))
        {
            return null;
        }
        var table = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var entries = section.Children().ToList();
        if (LooksLikeBareKeyList(entries))
        {
            // ["hex", "hex"] would otherwise read as identities "0", "1"… each with a key: surely not what was meant.
            psk.Error(Keys, "is a list of bare keys, which would become identities \"0\", \"1\"…: give each entry an Identity and a Key "
                + "(for one key for every identity use Psk:Key).");
            return table;
        }
        foreach (var entry in entries)
        {
            var entryKey = $"{Keys}:{entry.Key}";
            string identity;
            string? hex;
            string hexKey;
            if (entry.GetSection("Identity").Value is { } listed)
            {
                identity = listed;
                hex = entry.GetSection(Key).Value;
                hexKey = $"{entryKey}:{Key}";
                foreach (var field in entry.GetChildren())
                {
                    if (field.Key is not ("Identity" or Key))
                    {
                        psk.Error($"{entryKey}:{field.Key}", "is not a setting HotDtls knows (the value is not shown); an entry has Identity and Key.");
                    }
                }
            }
            else
            {
                identity = entry.Key;
                hex = entry.Value;
                hexKey = entryKey;
            }
            if (hex is null)
            {
                psk.Error(hexKey, $"no key: write {psk.PathOf(Keys)}:<identity> = hex key, or list entries with Identity and Key.");
                continue;
            }
            if (table.ContainsKey(identity))
            {
                psk.Error(entryKey, $"the identity '{identity}' is listed twice.");
                continue;
            }
            if (psk.SecretHex(hexKey, hex, PskStore.MaxKeyLength) is { } key)
            {
                table[identity] = key;
            }
        }
        if (section.Value is not null)
        {
            psk.Error(Keys, "expected a section (identity = hex key, or a list of entries with Identity and Key), found a single value; for one key for every identity use Psk:Key.");
        }
        return table;
    }

    private static bool LooksLikeBareKeyList(List<IConfigurationSection> entries)
    {
        for (var i = 0; i < entries.Count; i++)
        {
            if (entries[i].Key != i.ToString(System.Globalization.CultureInfo.InvariantCulture) || entries[i].Value is null)
            {
                return false;
            }
        }
        return entries.Count > 0;
    }
}
