using System.Diagnostics;
using System.Net;

namespace HotDtls.Interop.Tests.Peers;

/// <summary>
/// Counters for one of a <see cref="LossyUdpRelay"/>'s upstream sockets: the address the server sees the client at
/// from <see cref="LossyUdpRelay.Rebind"/> (or the start) to the next rebinding. From the server's side,
/// <see cref="DatagramsToServer"/>/<see cref="BytesToServer"/> are what it received from this address and
/// <see cref="DatagramsFromServer"/>/<see cref="BytesFromServer"/> what it sent to it.
/// </summary>
public sealed class RelayUpstreamStats
{
    internal int _datagramsToServer;
    internal long _bytesToServer;
    internal int _datagramsFromServer;
    internal long _bytesFromServer;
    internal int _lostAfterRetired;
    internal long _bytesLostAfterRetired;
    internal long _retiredTimestamp;

    internal RelayUpstreamStats(int index, IPEndPoint endPoint)
    {
        Index = index;
        EndPoint = endPoint;
        StartedTimestamp = Stopwatch.GetTimestamp();
    }

    /// <summary>0 for the relay's first address, n after the n-th rebinding.</summary>
    public int Index { get; }

    /// <summary>The client's address as the server sees it.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary><see cref="Stopwatch.GetTimestamp"/> when this address came into use.</summary>
    public long StartedTimestamp { get; }

    /// <summary><see cref="Stopwatch.GetTimestamp"/> when a rebinding replaced this address, or 0 while it is current.</summary>
    public long RetiredTimestamp => Volatile.Read(ref _retiredTimestamp);

    /// <summary>True once a rebinding replaced this address.</summary>
    public bool IsRetired => RetiredTimestamp != 0;

    /// <summary>Client datagrams sent to the server from this address (duplicates included: each is a datagram on the wire).</summary>
    public int DatagramsToServer => Volatile.Read(ref _datagramsToServer);

    /// <summary>Bytes of <see cref="DatagramsToServer"/> (UDP payload).</summary>
    public long BytesToServer => Volatile.Read(ref _bytesToServer);

    /// <summary>Datagrams the server sent to this address, whatever became of them.</summary>
    public int DatagramsFromServer => Volatile.Read(ref _datagramsFromServer);

    /// <summary>Bytes of <see cref="DatagramsFromServer"/> (UDP payload).</summary>
    public long BytesFromServer => Volatile.Read(ref _bytesFromServer);

    /// <summary>
    /// Datagrams the server sent here after this address was retired, lost because the old mapping is gone
    /// (<see cref="LossyUdpRelayOptions.OldAddressKeepsWorking"/> false). Included in <see cref="DatagramsFromServer"/>.
    /// </summary>
    public int LostAfterRetired => Volatile.Read(ref _lostAfterRetired);

    /// <summary>Bytes of <see cref="LostAfterRetired"/>.</summary>
    public long BytesLostAfterRetired => Volatile.Read(ref _bytesLostAfterRetired);

    /// <inheritdoc/>
    public override string ToString() =>
        $"#{Index} {EndPoint}{(IsRetired ? " (retired)" : "")}: to server {DatagramsToServer} datagrams/{BytesToServer} B, "
        + $"from server {DatagramsFromServer}/{BytesFromServer} B, lost after retired {LostAfterRetired}/{BytesLostAfterRetired} B";
}
