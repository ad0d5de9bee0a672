namespace HotDtls.Load;

/// <summary>One status line on stderr, rewritten in place once a second, only when stderr is a terminal.</summary>
internal sealed class Progress(bool enabled)
{
    private bool _shown;

    public static Progress For(LoadOptions options) => new(!options.NoProgress && !Console.IsErrorRedirected);

    public void Show(string line)
    {
        if (!enabled)
        {
            return;
        }
        Console.Error.Write($"\r{line}\u001b[K");
        _shown = true;
    }

    /// <summary>Ends the line so what follows starts on a fresh one.</summary>
    public void Done()
    {
        if (_shown)
        {
            Console.Error.Write("\r\u001b[K");
            _shown = false;
        }
    }
}
