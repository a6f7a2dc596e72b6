namespace ConsentGateway.Policy;

/// <summary>Fideslang-style dotted, hierarchical data categories.</summary>
internal static class CategoryName
{
    /// <summary>
    /// True when <paramref name="declared"/> is <paramref name="category"/> or one of its ancestors
    /// (<c>user.contact</c> covers <c>user.contact.email</c>; it does not cover <c>user.contactless</c>).
    /// </summary>
    public static bool Covers(string declared, string category) =>
        category.StartsWith(declared, StringComparison.Ordinal)
        && (category.Length == declared.Length || category[declared.Length] == '.');

    public static bool IsValid(string? name)
    {
        if (string.IsNullOrEmpty(name) || name[0] == '.' || name[^1] == '.')
        {
            return false;
        }

        var previousDot = false;
        foreach (var c in name)
        {
            var dot = c == '.';
            if ((dot && previousDot) || !(dot || char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_'))
            {
                return false;
            }

            previousDot = dot;
        }

        return true;
    }
}
