using HotDtls.Cli;

return await CommandLine.RunAsync(args).ConfigureAwait(false);
