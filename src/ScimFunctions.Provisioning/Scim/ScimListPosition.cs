namespace ScimFunctions.Provisioning.Scim;

/// <summary>Where a listing of every target user stands, so a scan can stop and go on in another run.</summary>
/// <param name="Scan">Which scan: 0 the unfiltered one; on Genesys, which lists only active users without a
/// filter, 1 the inactive users' (<c>active eq false</c>).</param>
/// <param name="StartIndex">The SCIM startIndex (1-based) of the next page in that scan.</param>
public sealed record ScimListPosition(int Scan, int StartIndex)
{
    public static readonly ScimListPosition Start = new(0, 1);
}

/// <summary>One page of the listing of every target user and where the next one starts (null: the listing is done).</summary>
public sealed record ScimUsersPage(IReadOnlyList<ScimResource> Resources, ScimListPosition? Next);
