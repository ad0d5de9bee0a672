using System.Reflection;

namespace HotDtls.Tests;

public sealed class DtlsServerStatisticsTests
{
    /// <summary>
    /// DtlsServer.Statistics adds up its receive loops' snapshots: a counter left out of Add reads 0 on a server of
    /// several loops (the Connection ID counters once were), so every property is checked, including ones added later.
    /// </summary>
    [Fact]
    public void Add_sums_every_counter_and_gauge()
    {
        var properties = typeof(DtlsServerStatistics).GetProperties(BindingFlags.Public | BindingFlags.Instance);
        object left = default(DtlsServerStatistics);
        object right = default(DtlsServerStatistics);
        for (var i = 0; i < properties.Length; i++)
        {
            Set(properties[i], left, 1 + i);
            Set(properties[i], right, 1000 * (1 + i));
        }

        var sum = ((DtlsServerStatistics)left).Add((DtlsServerStatistics)right);

        Assert.True(properties.Length >= 18, $"{properties.Length} properties");
        Assert.All(properties, (p, i) => Assert.Equal(1001L * (1 + i), Convert.ToInt64(p.GetValue(sum), System.Globalization.CultureInfo.InvariantCulture)));
    }

    private static void Set(PropertyInfo property, object boxed, int value) =>
        property.SetValue(boxed, Convert.ChangeType(value, property.PropertyType, System.Globalization.CultureInfo.InvariantCulture));
}
