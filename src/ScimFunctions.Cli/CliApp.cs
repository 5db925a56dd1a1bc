namespace ScimFunctions.Cli;

/// <summary>Entry point of <c>scimfn</c>; commands are added by the CLI issue.</summary>
public static class CliApp
{
    public static int Run(string[] args)
    {
        Console.Error.WriteLine("scimfn: no commands are built yet.");
        return args.Length == 0 ? 1 : 1;
    }
}
