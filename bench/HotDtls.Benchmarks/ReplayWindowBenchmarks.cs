using BenchmarkDotNet.Attributes;
using HotDtls.Records;

namespace HotDtls.Benchmarks;

/// <summary>
/// <see cref="ReplayWindow"/> as the record layer uses it: <see cref="ReplayWindow.CanAccept"/> before decryption and
/// <see cref="ReplayWindow.Accept"/> after. Each invocation handles <see cref="Batch"/> sequence numbers so that the
/// pattern repeats exactly; times are per sequence number.
/// </summary>
[MemoryDiagnoser]
public class ReplayWindowBenchmarks
{
    private const int Batch = 32;

    private ReplayWindow _window;
    private ulong _next;
    private ReplayWindow _full;
    private ulong _fullHighest;

    [GlobalSetup]
    public void Setup()
    {
        _window = default;
        _next = 1000;
        // A window that has seen every one of its 64 sequence numbers: each one is now a duplicate.
        _full = default;
        _fullHighest = 10_000;
        for (var s = _fullHighest - ReplayWindow.Size + 1; s <= _fullHighest; s++)
        {
            _full.Accept(s);
        }
    }

    /// <summary>Each record the next sequence number: every one slides the window by one.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public int InOrderAccept()
    {
        var accepted = 0;
        for (var i = 0; i < Batch; i++)
        {
            var sequence = _next++;
            if (_window.CanAccept(sequence))
            {
                _window.Accept(sequence);
                accepted++;
            }
        }
        return accepted;
    }

    /// <summary>
    /// The last of 32 records arrives first (one slide of 32), then the other 31 newest-first: 31 of every 32 are
    /// out of order, inside the window.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public int OutOfOrderWithinWindow()
    {
        var accepted = 0;
        var first = _next;
        _next += Batch;
        for (var i = Batch - 1; i >= 0; i--)
        {
            var sequence = first + (ulong)i;
            if (_window.CanAccept(sequence))
            {
                _window.Accept(sequence);
                accepted++;
            }
        }
        return accepted;
    }

    /// <summary>Records already seen: rejected by <see cref="ReplayWindow.CanAccept"/> before any decryption.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public int DuplicateReject()
    {
        var rejected = 0;
        for (var i = 0; i < Batch; i++)
        {
            if (!_full.CanAccept(_fullHighest - (ulong)(i * 2)))
            {
                rejected++;
            }
        }
        return rejected;
    }
}
