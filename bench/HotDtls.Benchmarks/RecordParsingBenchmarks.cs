using BenchmarkDotNet.Attributes;
using HotDtls.Records;

namespace HotDtls.Benchmarks;

/// <summary>
/// Framing a received datagram: <see cref="RecordHeader.TryRead"/> alone, and <see cref="DatagramReader"/> walking a
/// datagram of one record (application data, as in steady state) and of three packed records (a client's flight 5:
/// ClientKeyExchange, ChangeCipherSpec, Finished).
/// </summary>
[MemoryDiagnoser]
public class RecordParsingBenchmarks
{
    private byte[] _oneRecord = [];
    private byte[] _threeRecords = [];

    [GlobalSetup]
    public void Setup()
    {
        // 100 bytes of application data in epoch 1: nonce_explicit (8) || ciphertext || tag (16).
        _oneRecord = Datagram((ContentType.ApplicationData, 1, 7, 8 + 100 + 16));
        // Flight 5 as HotDtls's client packs it: ClientKeyExchange (handshake header 12 + identity 2 + 22) in epoch 0,
        // ChangeCipherSpec (1), Finished (header 12 + verify_data 12, sealed: + 24) in epoch 1.
        _threeRecords = Datagram(
            (ContentType.Handshake, 0, 3, 12 + 2 + 22),
            (ContentType.ChangeCipherSpec, 0, 4, 1),
            (ContentType.Handshake, 1, 0, 8 + 12 + 12 + 16));
        if (DatagramReaderOneRecord() != 1 || DatagramReaderThreeRecords() != 3)
        {
            throw new InvalidOperationException("The benchmark datagrams do not frame as intended.");
        }
    }

    [Benchmark]
    public ushort RecordHeaderTryRead() => RecordHeader.TryRead(_oneRecord, out var header) ? header.Length : (ushort)0;

    [Benchmark]
    public int DatagramReaderOneRecord() => CountRecords(_oneRecord);

    [Benchmark]
    public int DatagramReaderThreeRecords() => CountRecords(_threeRecords);

    private static int CountRecords(ReadOnlySpan<byte> datagram)
    {
        var reader = new DatagramReader(datagram);
        var count = 0;
        while (reader.TryReadRecord(out _, out _))
        {
            count++;
        }
        return reader.Malformed ? -1 : count;
    }

    private static byte[] Datagram(params (ContentType Type, ushort Epoch, ulong Sequence, int BodyLength)[] records)
    {
        var total = 0;
        foreach (var record in records)
        {
            total += RecordHeader.Size + record.BodyLength;
        }
        var datagram = new byte[total];
        var random = new Random(1);
        var offset = 0;
        foreach (var (type, epoch, sequence, bodyLength) in records)
        {
            new RecordHeader(type, ProtocolVersion.Dtls12, epoch, sequence, (ushort)bodyLength).Write(datagram.AsSpan(offset));
            random.NextBytes(datagram.AsSpan(offset + RecordHeader.Size, bodyLength));
            offset += RecordHeader.Size + bodyLength;
        }
        return datagram;
    }
}
