namespace HotDtls.Interop.Tests.Peers;

/// <summary>
/// The seeded decisions of one relay direction, apart from sockets and timers so that they can be tested and
/// predicted: two deciders with the same options and seed give the same fates for the same datagram sizes.
/// </summary>
public sealed class DatagramFateDecider
{
    private readonly LossyUdpRelayOptions _options;
    private readonly Random _random;

    /// <summary>A decider drawing from <c>new Random(seed)</c>.</summary>
    public DatagramFateDecider(LossyUdpRelayOptions options, int seed)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _random = new Random(seed);
    }

    /// <summary>The fate of the next datagram, <paramref name="length"/> bytes long.</summary>
    public DatagramFate Next(int length)
    {
        // Always draw the same number of values per datagram, so the n-th datagram's fate does not depend on
        // earlier fates or sizes. The jitter draw comes last and only when jitter is on, so seeds chosen before
        // delays existed keep their drop/duplicate/reorder sequence.
        var drop = _random.NextDouble() < _options.DropProbability;
        var duplicate = _random.NextDouble() < _options.DuplicateProbability;
        var reorder = _random.NextDouble() < _options.ReorderProbability;
        var delay = _options.Delay;
        if (_options.Jitter > TimeSpan.Zero)
        {
            delay += _options.Jitter * ((2 * _random.NextDouble()) - 1);
            if (delay < TimeSpan.Zero)
            {
                delay = TimeSpan.Zero;
            }
        }

        var tooLarge = length > _options.MaxDatagramSize;
        return new DatagramFate(tooLarge, drop && !tooLarge, duplicate, reorder, delay);
    }
}
