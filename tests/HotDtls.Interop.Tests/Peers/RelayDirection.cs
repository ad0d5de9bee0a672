namespace HotDtls.Interop.Tests.Peers;

/// <summary>Which way a datagram crosses a <see cref="LossyUdpRelay"/>.</summary>
public enum RelayDirection
{
    /// <summary>From the client to the server.</summary>
    ClientToServer,

    /// <summary>From the server to the client.</summary>
    ServerToClient,
}
