using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.Tests.Sync;

public sealed class PolicyTests
{
    [Theory]
    [InlineData(10_000, 500)] // the count limit is reached first
    [InlineData(1_000, 200)]  // 20 % of managed users is reached first
    [InlineData(20, 10)]      // never below the minimum
    [InlineData(0, 10)]
    public void Threshold_Limit_IsCountOrFractionWhicheverFirst(long managed, long expected)
    {
        Assert.Equal(expected, ThresholdPolicy.Limit(new ThresholdOptions(), managed));
    }

    [Fact]
    public void Threshold_WouldExceed_OnlyPastTheLimit()
    {
        var options = new ThresholdOptions { MaxActionsPerHour = 3, MinimumActions = 0 };

        Assert.False(ThresholdPolicy.WouldExceed(options, 2, 1000));
        Assert.True(ThresholdPolicy.WouldExceed(options, 3, 1000));
    }

    [Fact]
    public void Threshold_Window_SlidesOverTheLast60Minutes_NotTheClockHour()
    {
        var now = new DateTimeOffset(2026, 11, 27, 11, 0, 30, TimeSpan.Zero);

        Assert.True(ThresholdPolicy.InWindow(new DateTimeOffset(2026, 11, 27, 10, 59, 0, TimeSpan.Zero), now));
        Assert.True(ThresholdPolicy.InWindow(now.AddMinutes(-59), now));
        Assert.False(ThresholdPolicy.InWindow(now.AddMinutes(-60), now));
    }

    [Theory]
    [InlineData("department eq 'Sales'", true)]
    [InlineData("department eq 'sales' and jobTitle sw 'Eng'", true)]
    [InlineData("department eq 'HR' or employeeId eq 'E1'", true)]
    [InlineData("department ne 'Research'", true)]
    [InlineData("department ne 'Sales'", false)]
    [InlineData("companyName eq 'O''Brien Ltd'", true)]
    public void ScopeFilter_Matches(string filter, bool expected)
    {
        var user = SyncTestData.User(department: "Sales", jobTitle: "Engineer", properties: new() { ["companyName"] = "O'Brien Ltd" });

        Assert.Equal(expected, ScopeFilter.Parse(filter).Matches(user));
    }

    [Theory]
    [InlineData("department = 'Sales'")]
    [InlineData("department eq 'Sales' xor a eq 'b'")]
    [InlineData("")]
    public void ScopeFilter_Malformed_NamesTheSetting(string filter)
    {
        var ex = Assert.Throws<FormatException>(() => ScopeFilter.Parse(filter));
        Assert.Contains("Sync__Scope__Filter", ex.Message, StringComparison.Ordinal);
    }
}
