using Microsoft.Extensions.ObjectPool;

namespace HotDtls.Connection;

/// <summary>
/// How a server engine's pool makes and takes back <see cref="HandshakeContext"/>s: a context comes back
/// <see cref="HandshakeContext.Reset">reset</see> (secrets zeroed, buffers returned), or, past the pool's bound,
/// is disposed.
/// </summary>
internal sealed class HandshakeContextPolicy(DtlsOptions options) : IPooledObjectPolicy<HandshakeContext>
{
    public HandshakeContext Create() => new(options);

    public bool Return(HandshakeContext obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        obj.Reset();
        return true;
    }
}
