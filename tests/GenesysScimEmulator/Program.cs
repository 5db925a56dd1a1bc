using GenesysScimEmulator;

// dotnet run --project tests/GenesysScimEmulator -- --urls http://127.0.0.1:PORT [--seed PATH] [--Emulator:ConflictStatus 409]
var builder = WebApplication.CreateBuilder(args);
builder.AddGenesysScimEmulator();
var app = builder.Build();
app.UseGenesysScimEmulator();
app.Run();

public partial class Program;
