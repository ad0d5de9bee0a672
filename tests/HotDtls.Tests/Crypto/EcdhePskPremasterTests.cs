using HotDtls.Crypto;

namespace HotDtls.Tests.Crypto;

// RFC 5489 §2: uint16 len(Z) || Z || uint16 len(PSK) || PSK, written out by hand.
public sealed class EcdhePskPremasterTests
{
    // RFC 7748 §6.1's shared secret K, as the Z an X25519 exchange produces.
    private const string Z = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

    [Fact]
    public void Premaster_secret_is_length_Z_length_psk()
    {
        var psk = Convert.FromHexString("1a2b3c4d5e6f");
        var destination = new byte[EcdhePskPremaster.Length(32, psk.Length)];

        int written = EcdhePskPremaster.Write(Convert.FromHexString(Z), psk, destination);

        Assert.Equal(2 + 32 + 2 + 6, written);
        Assert.Equal("0020" + Z + "0006" + "1a2b3c4d5e6f", Convert.ToHexStringLower(destination));
    }

    [Fact]
    public void Only_the_premaster_bytes_are_written()
    {
        var destination = new byte[80];
        destination.AsSpan().Fill(0xEE);
        var psk = Convert.FromHexString("000102030405060708090a0b0c0d0e0f");

        int written = EcdhePskPremaster.Write(Convert.FromHexString(Z), psk, destination);

        Assert.Equal(52, written);
        Assert.Equal("0020" + Z + "0010" + "000102030405060708090a0b0c0d0e0f", Convert.ToHexStringLower(destination.AsSpan(0, written)));
        Assert.All(destination[written..], b => Assert.Equal(0xEE, b));
    }

    [Fact]
    public void Leading_zero_bytes_of_Z_are_kept()
    {
        // RFC 8422 §5.10: Z has the field's length whatever its value.
        var z = new byte[32];
        z[31] = 0x01;
        var destination = new byte[EcdhePskPremaster.Length(z.Length, 1)];

        EcdhePskPremaster.Write(z, [0x99], destination);

        Assert.Equal("0020" + new string('0', 62) + "01" + "0001" + "99", Convert.ToHexStringLower(destination));
    }

    [Fact]
    public void Empty_fields_and_the_largest_fields_are_legal()
    {
        Assert.Equal(4, EcdhePskPremaster.Length(0, 0));
        var empty = new byte[4];
        Assert.Equal(4, EcdhePskPremaster.Write([], [], empty));
        Assert.Equal("00000000", Convert.ToHexStringLower(empty));

        Assert.Equal(4 + (2 * 65535), EcdhePskPremaster.Length(ushort.MaxValue, ushort.MaxValue));
    }

    [Fact]
    public void Misuse_throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => EcdhePskPremaster.Length(ushort.MaxValue + 1, 16));
        Assert.Throws<ArgumentOutOfRangeException>(() => EcdhePskPremaster.Length(32, ushort.MaxValue + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => EcdhePskPremaster.Length(-1, 16));
        Assert.Throws<ArgumentOutOfRangeException>(() => EcdhePskPremaster.Length(32, -1));
        Assert.Throws<ArgumentException>(() => EcdhePskPremaster.Write(new byte[32], new byte[16], new byte[51]));
    }
}
