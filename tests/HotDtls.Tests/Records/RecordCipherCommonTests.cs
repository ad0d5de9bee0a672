using HotDtls.Records;

namespace HotDtls.Tests.Records;

public sealed class RecordCipherCommonTests
{
    [Fact]
    public void Additional_data_without_a_CID_is_seq_num_type_version_length()
    {
        var aad = new byte[RecordCipherCommon.MaxAdditionalDataLength];

        var length = RecordCipherCommon.WriteAdditionalData(aad, ContentType.ApplicationData, 1, 0x0000_0000_0102, default, 0x0304);

        Assert.Equal(13, length);
        Assert.Equal("0001000000000102" + "17" + "fefd" + "0304", Convert.ToHexString(aad, 0, length).ToLowerInvariant());
    }

    [Fact]
    public void Additional_data_with_a_CID_is_the_RFC_9146_form()
    {
        var aad = new byte[RecordCipherCommon.MaxAdditionalDataLength];

        var length = RecordCipherCommon.WriteAdditionalData(aad, ContentType.Tls12Cid, 1, 0x0000_0000_0102, [0xC1, 0xD2, 0xE3], 0x0304);

        // seq_num_placeholder, tls12_cid, cid_length, tls12_cid, version, epoch, sequence_number, cid, length.
        Assert.Equal(23 + 3, length);
        Assert.Equal("ffffffffffffffff" + "19" + "03" + "19" + "fefd" + "0001" + "000000000102" + "c1d2e3" + "0304",
            Convert.ToHexString(aad, 0, length).ToLowerInvariant());
    }

    [Fact]
    public void The_longest_CID_fits_the_largest_additional_data()
    {
        var aad = new byte[RecordCipherCommon.MaxAdditionalDataLength];

        var length = RecordCipherCommon.WriteAdditionalData(aad, ContentType.Tls12Cid, 1, 0, new byte[255], 0);

        Assert.Equal(aad.Length, length);
    }
}
