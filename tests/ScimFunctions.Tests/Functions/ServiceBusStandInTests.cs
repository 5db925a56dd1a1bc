using System.Reflection;
using Azure.Messaging.ServiceBus;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Extensions.Abstractions;

namespace ScimFunctions.Tests.Functions;

/// <summary>The function code compiles against whichever Service Bus binding the build chose; these
/// tests pin the surface both must share (reference/graph-and-azure.md §11.3).</summary>
public sealed class ServiceBusStandInTests
{
    private static readonly Assembly BindingAssembly = typeof(ServiceBusTriggerAttribute).Assembly;

    [Fact]
    public void TriggerAttribute_HasTheOfficialShape()
    {
        var type = typeof(ServiceBusTriggerAttribute);

        Assert.True(type.IsSealed);
        Assert.True(typeof(TriggerBindingAttribute).IsAssignableFrom(type));
        Assert.NotNull(type.GetConstructor([typeof(string)]));
        Assert.NotNull(type.GetConstructor([typeof(string), typeof(string)]));
        var attribute = new ServiceBusTriggerAttribute("q");
        Assert.False(attribute.AutoCompleteMessages); // the official attribute has no initializer
        Assert.False(attribute.IsBatched);
        Assert.False(attribute.IsSessionsEnabled);
        Assert.Equal("q", attribute.QueueName);
    }

    [Fact]
    public void MessageActions_HaveTheOfficialSettlementSignatures()
    {
        var type = typeof(ServiceBusMessageActions);
        Assert.False(type.IsSealed);
        Assert.NotNull(type.GetConstructor(BindingFlags.Instance | BindingFlags.NonPublic, []));

        AssertVirtual(type, "CompleteMessageAsync", typeof(ServiceBusReceivedMessage), typeof(CancellationToken));
        AssertVirtual(type, "AbandonMessageAsync", typeof(ServiceBusReceivedMessage), typeof(IDictionary<string, object>), typeof(CancellationToken));
        AssertVirtual(type, "DeadLetterMessageAsync", typeof(ServiceBusReceivedMessage), typeof(Dictionary<string, object>), typeof(string), typeof(string), typeof(CancellationToken));
        AssertVirtual(type, "DeferMessageAsync", typeof(ServiceBusReceivedMessage), typeof(IDictionary<string, object>), typeof(CancellationToken));
        AssertVirtual(type, "RenewMessageLockAsync", typeof(ServiceBusReceivedMessage), typeof(CancellationToken));
    }

    [Fact]
    public void StandIn_CarriesNoExtensionInformation()
    {
        // The official package declares it (that is what pulls in the host extension); the stand-in must not.
        var declaresExtension = BindingAssembly.GetCustomAttributes<ExtensionInformationAttribute>().Any();
        var isStandIn = BindingAssembly.GetName().Name == "ScimFunctions.ServiceBusStandIn";

        Assert.True(isStandIn != declaresExtension, $"{BindingAssembly.GetName().Name}: ExtensionInformation present = {declaresExtension}.");
    }

    private static void AssertVirtual(Type type, string name, params Type[] parameters)
    {
        var method = type.GetMethod(name, parameters);
        Assert.True(method is { IsVirtual: true }, $"{name}({string.Join(", ", parameters.Select(p => p.Name))}) must exist and be virtual.");
        Assert.Equal(typeof(Task), method!.ReturnType);
    }
}
