using System.Security.Cryptography;
using HotDtls.Crypto;

namespace HotDtls.Tests.Crypto;

public sealed class HandshakeTranscriptTests
{
    [Fact]
    public void Empty_transcript_hashes_to_the_hash_of_nothing()
    {
        using var transcript = new HandshakeTranscript();
        var sha256 = new byte[32];
        var sha384 = new byte[48];
        Assert.Equal(32, transcript.GetHash(HashAlgorithmName.SHA256, sha256));
        Assert.Equal(48, transcript.GetHash(HashAlgorithmName.SHA384, sha384));
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Convert.ToHexStringLower(sha256));
        Assert.Equal(
            "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b",
            Convert.ToHexStringLower(sha384));
    }

    [Fact]
    public void Hash_covers_every_message_appended_so_far_in_order()
    {
        using var transcript = new HandshakeTranscript();
        var clientHello = Message(1, 120);
        var serverHello = Message(2, 70);
        var finished = Message(20, 12);

        Assert.True(transcript.TryAppend(clientHello));
        Assert.True(transcript.TryAppend(serverHello));
        var beforeFinished = new byte[32];
        transcript.GetHash(HashAlgorithmName.SHA256, beforeFinished);
        Assert.Equal(SHA256.HashData(Concat(clientHello, serverHello)), beforeFinished);

        Assert.True(transcript.TryAppend(finished));
        var afterFinished = new byte[48];
        transcript.GetHash(HashAlgorithmName.SHA384, afterFinished);
        Assert.Equal(SHA384.HashData(Concat(clientHello, serverHello, finished)), afterFinished);
        Assert.Equal(120 + 70 + 12 + 36, transcript.Length);
    }

    [Fact]
    public void Many_small_appends_survive_buffer_growth()
    {
        using var transcript = new HandshakeTranscript();
        var all = new List<byte>();
        for (int i = 0; i < 500; i++)
        {
            var message = Message((byte)i, i % 37);
            Assert.True(transcript.TryAppend(message));
            all.AddRange(message);
        }

        var hash = new byte[32];
        transcript.GetHash(HashAlgorithmName.SHA256, hash);
        Assert.Equal(SHA256.HashData(all.ToArray()), hash);
    }

    [Fact]
    public void Appending_up_to_the_cap_succeeds_and_one_byte_more_fails()
    {
        using var transcript = new HandshakeTranscript();
        Assert.True(transcript.TryAppend(new byte[HandshakeTranscript.MaxLength - 1]));
        Assert.True(transcript.TryAppend(new byte[1]));
        Assert.Equal(HandshakeTranscript.MaxLength, transcript.Length);

        Assert.False(transcript.TryAppend(new byte[1]));
        Assert.True(transcript.TryAppend(ReadOnlySpan<byte>.Empty));
        Assert.Equal(HandshakeTranscript.MaxLength, transcript.Length);
    }

    [Fact]
    public void A_single_message_past_the_cap_fails_and_leaves_the_transcript_unchanged()
    {
        using var transcript = new HandshakeTranscript();
        var first = Message(1, 50);
        Assert.True(transcript.TryAppend(first));
        Assert.False(transcript.TryAppend(new byte[HandshakeTranscript.MaxLength - 62 + 1]));
        Assert.False(transcript.TryAppend(new byte[HandshakeTranscript.MaxLength + 1]));

        var hash = new byte[32];
        transcript.GetHash(HashAlgorithmName.SHA256, hash);
        Assert.Equal(SHA256.HashData(first), hash);
    }

    [Fact]
    public void Reset_forgets_the_messages()
    {
        using var transcript = new HandshakeTranscript();
        transcript.TryAppend(Message(1, 100));
        transcript.Reset();
        Assert.Equal(0, transcript.Length);

        var second = Message(1, 110);
        Assert.True(transcript.TryAppend(second));
        var hash = new byte[32];
        transcript.GetHash(HashAlgorithmName.SHA256, hash);
        Assert.Equal(SHA256.HashData(second), hash);
    }

    [Fact]
    public void Dispose_returns_the_buffer_and_leaves_an_empty_reusable_transcript()
    {
        var transcript = new HandshakeTranscript();
        transcript.TryAppend(Message(1, 100));
        transcript.Dispose();
        transcript.Dispose();
        Assert.Equal(0, transcript.Length);

        Assert.True(transcript.TryAppend(Message(2, 10)));
        transcript.Dispose();
    }

    [Fact]
    public void Other_hashes_are_rejected()
    {
        using var transcript = new HandshakeTranscript();
        Assert.Throws<ArgumentException>(() => transcript.GetHash(HashAlgorithmName.SHA1, new byte[64]));
    }

    // A whole handshake message as it enters the transcript (RFC 6347 §4.2.6): 12-byte header with
    // fragment_offset 0 and fragment_length = length, then the body.
    private static byte[] Message(byte type, int bodyLength)
    {
        var message = new byte[12 + bodyLength];
        message[0] = type;
        message[1] = (byte)(bodyLength >> 16);
        message[2] = (byte)(bodyLength >> 8);
        message[3] = (byte)bodyLength;
        message[5] = type;
        message[9] = (byte)(bodyLength >> 16);
        message[10] = (byte)(bodyLength >> 8);
        message[11] = (byte)bodyLength;
        for (int i = 0; i < bodyLength; i++)
        {
            message[12 + i] = (byte)(type + i);
        }

        return message;
    }

    private static byte[] Concat(params byte[][] parts)
    {
        var all = new List<byte>();
        foreach (var part in parts)
        {
            all.AddRange(part);
        }

        return all.ToArray();
    }
}
