using HotDtls.Connection;

namespace HotDtls.Tests.Support;

/// <summary>White-box access from a public <see cref="DtlsSession"/> to the server connection behind it.</summary>
internal static class SessionExtensions
{
    extension(DtlsSession session)
    {
        /// <summary>The connection behind the session.</summary>
        public ServerConnection Connection => (ServerConnection)session.Channel;
    }
}
