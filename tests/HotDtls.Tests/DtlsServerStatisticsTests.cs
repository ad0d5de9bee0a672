using System.Reflection;

namespace HotDtls.Tests;

public sealed class DtlsServerStatisticsTests
{
    [Fact]
    public void Adding_two_snapshots_sums_every_counter()
    {
        object first = new DtlsServerStatistics();
        object second = new DtlsServerStatistics();
        var properties = typeof(DtlsServerStatistics).GetProperties(BindingFlags.Public | BindingFlags.Instance);
        var value = 1;
        foreach (var property in properties)
        {
            property.SetValue(first, Convert.ChangeType(value, property.PropertyType, System.Globalization.CultureInfo.InvariantCulture));
            property.SetValue(second, Convert.ChangeType(value * 1000, property.PropertyType, System.Globalization.CultureInfo.InvariantCulture));
            value++;
        }

        var sum = ((DtlsServerStatistics)first).Add((DtlsServerStatistics)second);

        value = 1;
        foreach (var property in properties)
        {
            Assert.True(Convert.ToInt64(property.GetValue(sum), System.Globalization.CultureInfo.InvariantCulture) == value * 1001L,
                $"{property.Name} is not summed");
            value++;
        }
    }
}
