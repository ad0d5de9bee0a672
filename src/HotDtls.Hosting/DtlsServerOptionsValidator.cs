using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace HotDtls.Hosting;

/// <summary>The container's check of the final <see cref="DtlsServerOptions"/>, naming configuration keys in its failures.</summary>
internal sealed class DtlsServerOptionsValidator(IConfiguration? section) : IValidateOptions<DtlsServerOptions>
{
    public ValidateOptionsResult Validate(string? name, DtlsServerOptions options)
        => ServerOptionsValidation.Problem(options, (section as IConfigurationSection)?.Path) is { } problem
            ? ValidateOptionsResult.Fail(problem)
            : ValidateOptionsResult.Success;
}
