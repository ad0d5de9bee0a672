namespace HotDtls.Tests;

/// <summary>What <see cref="DtlsOptions"/> accepts and the messages that say what to fix.</summary>
public sealed class DtlsOptionsTests
{
    private static DtlsClientOptions Client() => new() { PskIdentity = "device", PskKey = [1, 2, 3] };

    [Fact]
    public void Defaults_offer_every_suite_forward_secret_first_and_both_groups()
    {
        var options = Client();
        options.ValidateClient();
        Assert.Equal(DtlsOptions.DefaultCipherSuites, options.CipherSuites);
        Assert.Equal(CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256, options.CipherSuites[0]);
        Assert.Equal(CipherSuite.TLS_PSK_WITH_AES_128_CBC_SHA256, options.CipherSuites[^1]);
        Assert.Equal([NamedGroup.X25519, NamedGroup.Secp256r1], options.NamedGroups);
    }

    [Fact]
    public void Each_options_object_has_its_own_lists()
    {
        var first = Client();
        first.CipherSuites.Clear();
        first.NamedGroups.Clear();
        Assert.Equal(DtlsOptions.DefaultCipherSuites.Count, Client().CipherSuites.Count);
        Assert.Equal(2, Client().NamedGroups.Count);
    }

    [Fact]
    public void A_suite_outside_the_enum_is_refused_with_its_code()
    {
        var options = Client();
        options.CipherSuites.Add((CipherSuite)0x00AA);
        Assert.Contains("0x00AA", Assert.Throws<ArgumentException>(options.ValidateClient).Message);
    }

    [Fact]
    public void A_suite_named_twice_is_refused()
    {
        var options = Client();
        options.CipherSuites.Add(CipherSuite.TLS_PSK_WITH_AES_128_CCM_8);
        Assert.Contains("TLS_PSK_WITH_AES_128_CCM_8 twice", Assert.Throws<ArgumentException>(options.ValidateClient).Message);
    }

    [Fact]
    public void Ecdhe_suites_without_groups_are_refused_and_psk_suites_alone_need_none()
    {
        var options = Client();
        options.NamedGroups.Clear();
        Assert.Contains("NamedGroups is empty", Assert.Throws<ArgumentException>(options.ValidateClient).Message);

        options.CipherSuites.Clear();
        options.CipherSuites.Add(CipherSuite.TLS_PSK_WITH_AES_128_CCM_8);
        options.ValidateClient();
    }

    [Fact]
    public void An_unknown_or_repeated_group_is_refused()
    {
        var unknown = Client();
        unknown.NamedGroups.Add((NamedGroup)24);
        Assert.Contains("Named group 24", Assert.Throws<ArgumentException>(unknown.ValidateClient).Message);

        var repeated = Client();
        repeated.NamedGroups.Add(NamedGroup.X25519);
        Assert.Contains("X25519 twice", Assert.Throws<ArgumentException>(repeated.ValidateClient).Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(11)]
    [InlineData(-1)]
    public void A_server_CID_length_outside_0_and_4_to_10_is_refused_with_the_range(int length)
    {
        var options = new DtlsServerOptions
        {
            EndPoint = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0),
            PskStore = PskStore.Single([1]),
            ConnectionIdLength = length,
        };

        var exception = Assert.Throws<ArgumentOutOfRangeException>(options.ValidateServer);
        Assert.Contains("4 to 10", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(0)]
    [InlineData(4)]
    [InlineData(10)]
    public void Server_CID_lengths_null_0_and_4_to_10_are_accepted(int? length)
    {
        var options = new DtlsServerOptions
        {
            EndPoint = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0),
            PskStore = PskStore.Single([1]),
            ConnectionIdLength = length,
        };

        options.ValidateServer();
    }

    [Fact]
    public void Servers_issue_6_byte_CIDs_and_clients_offer_none_by_default()
    {
        Assert.Equal(6, new DtlsServerOptions().ConnectionIdLength);
        Assert.Null(new DtlsClientOptions().ConnectionIdLength);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(33)]
    public void A_client_CID_length_outside_0_to_32_is_refused(int length)
    {
        var options = new DtlsClientOptions { PskKey = [1], ConnectionIdLength = length };

        var exception = Assert.Throws<ArgumentOutOfRangeException>(options.ValidateClient);
        Assert.Contains("0 to 32", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(63)]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(16385)]
    public void A_record_size_limit_outside_64_to_16384_is_refused_with_the_range(int limit)
    {
        var options = Client();
        options.RecordSizeLimit = limit;
        var refused = Assert.Throws<ArgumentOutOfRangeException>(options.ValidateClient);
        Assert.Equal(nameof(DtlsOptions.RecordSizeLimit), refused.ParamName);
        Assert.Contains("64 to 16384", refused.Message, StringComparison.Ordinal);
        Assert.Contains("RFC 8449", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(64)]
    [InlineData(16384)]
    public void Record_size_limits_null_and_64_to_16384_are_accepted(int? limit)
    {
        var options = Client();
        options.RecordSizeLimit = limit;
        options.ValidateClient();
    }

    [Theory]
    [InlineData(256)]
    [InlineData(513)]
    [InlineData(8192)]
    [InlineData(0)]
    public void A_max_fragment_length_other_than_the_four_of_rfc_6066_is_refused(int length)
    {
        var options = Client();
        options.MaxFragmentLength = length;
        var refused = Assert.Throws<ArgumentOutOfRangeException>(options.ValidateClient);
        Assert.Equal(nameof(DtlsClientOptions.MaxFragmentLength), refused.ParamName);
        Assert.Contains("512, 1024, 2048, 4096", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(512)]
    [InlineData(1024)]
    [InlineData(2048)]
    [InlineData(4096)]
    public void Max_fragment_lengths_null_and_the_four_powers_of_two_are_accepted(int? length)
    {
        var options = Client();
        options.MaxFragmentLength = length;
        options.ValidateClient();
    }
}
