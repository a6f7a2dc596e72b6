using ConsentGateway.Consent;
using ConsentGateway.Policy;

namespace ConsentGateway.Tests.Consent;

/// <summary>The compact L1 projection: what it keeps, the bounded name table, and that evaluation over it is unchanged.</summary>
public sealed class CompactConsentTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    // Expiries around "now", including the exact instant in another offset and the extremes of the type.
    private static readonly DateTimeOffset?[] Expiries =
    [
        null,
        Now.AddYears(-1),
        Now.AddTicks(-1),
        Now,
        Now.ToOffset(TimeSpan.FromHours(5)),
        Now.AddTicks(1),
        Now.AddDays(30).ToOffset(TimeSpan.FromHours(-7)),
        DateTimeOffset.MinValue,
        DateTimeOffset.MaxValue,
    ];

    [Fact]
    public void Status_expiry_gpc_and_version_round_trip_for_every_slot()
    {
        var purposes = new List<PurposeConsent>();
        var i = 0;
        foreach (var status in new[] { ConsentStatus.Granted, ConsentStatus.Denied })
        {
            foreach (var expiry in Expiries)
            {
                purposes.Add(new PurposeConsent("p" + i++, status, expiry, Now, "test"));
            }
        }

        foreach (var gpc in new[] { false, true })
        {
            // Every purpose count from 0 to all of them, so each value lands in an inline slot and in the spill array.
            for (var count = 0; count <= purposes.Count; count++)
            {
                var record = new SubjectConsent(41 + count, gpc, [.. purposes.Take(count)]);
                var compact = CompactConsent.From(record);

                Assert.Equal((41L + count, gpc, count, false), (compact.Version, compact.Gpc, compact.PurposeCount, compact.NotFound));
                Assert.Equal(count == 0 && !gpc, compact.IsEmpty);
                foreach (var p in purposes.Take(count))
                {
                    var state = compact.Find(p.Purpose);
                    Assert.NotNull(state);
                    Assert.Equal(p.Status, state.Value.Status);
                    Assert.Equal(p.ExpiresAt, state.Value.ExpiresAt); // same instant (the offset is not kept, nor needed)
                }

                foreach (var p in purposes.Skip(count))
                {
                    Assert.Null(compact.Find(p.Purpose));
                }
            }
        }
    }

    [Fact]
    public void Purposes_beyond_two_spill_and_are_each_found_with_their_own_state()
    {
        var record = new SubjectConsent(3, false,
        [
            new PurposeConsent("marketing", ConsentStatus.Granted, null, Now, "web"),
            new PurposeConsent("analytics", ConsentStatus.Denied, null, Now, "app"),
            new PurposeConsent("ads", ConsentStatus.Granted, Now.AddDays(1), Now, "web"),
            new PurposeConsent("email", ConsentStatus.Denied, Now.AddDays(2), Now, null),
            new PurposeConsent("fraud", ConsentStatus.Granted, Now.AddDays(-1), Now, null),
        ]);

        var compact = CompactConsent.From(record);

        Assert.Equal(5, compact.PurposeCount);
        Assert.Equal(new PurposeState(ConsentStatus.Granted, CompactConsent.NoExpiry), compact.Find("marketing"));
        Assert.Equal(new PurposeState(ConsentStatus.Denied, CompactConsent.NoExpiry), compact.Find("analytics"));
        Assert.Equal(new PurposeState(ConsentStatus.Granted, Now.AddDays(1).UtcTicks), compact.Find("ads"));
        Assert.Equal(new PurposeState(ConsentStatus.Denied, Now.AddDays(2).UtcTicks), compact.Find("email"));
        Assert.Equal(new PurposeState(ConsentStatus.Granted, Now.AddDays(-1).UtcTicks), compact.Find("fraud"));
        Assert.Null(compact.Find("Marketing")); // ordinal, as the store's Find
        Assert.Null(compact.Find("support"));
    }

    [Fact]
    public void Not_found_projects_to_an_empty_answer_marked_as_such()
    {
        var compact = CompactConsent.From(null);

        Assert.True(compact is { NotFound: true, IsEmpty: true, Version: 0, Gpc: false, PurposeCount: 0 });
        Assert.Null(compact.Find("marketing"));
        Assert.False(CompactConsent.From(SubjectConsent.Empty).NotFound); // a record without purposes is not "no record"
    }

    [Fact]
    public void Name_table_hands_out_one_instance_per_name()
    {
        var table = new PurposeNameTable(8);

        var first = table.Intern(new string("marketing".AsSpan()));
        var second = table.Intern(new string("marketing".AsSpan()));

        Assert.Equal("marketing", first);
        Assert.Same(first, second);
        Assert.Equal(1, table.Count);
    }

    [Fact]
    public void Name_table_stops_at_its_capacity_and_keeps_what_it_holds()
    {
        var table = new PurposeNameTable(2);

        var a = table.Intern("a");
        Assert.NotNull(table.Intern("b"));
        Assert.Null(table.Intern("c"));
        Assert.Same(a, table.Intern(new string("a".AsSpan())));
        Assert.Equal(2, table.Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => new PurposeNameTable(0));
    }

    [Fact]
    public void A_projection_past_the_table_bound_is_exact_but_not_shared()
    {
        var table = new PurposeNameTable(1);
        var record = new SubjectConsent(9, true,
        [
            new PurposeConsent("marketing", ConsentStatus.Granted, null, Now, null),
            new PurposeConsent("analytics", ConsentStatus.Denied, Now.AddDays(1), Now, null),
        ]);

        var compact = CompactConsent.Project(record, freshUntil: 123, generation: 4, table, out var shared);

        Assert.False(shared);
        Assert.Equal((9L, true, 123L, 4L), (compact.Version, compact.Gpc, compact.FreshUntil, compact.Generation));
        Assert.Equal(new PurposeState(ConsentStatus.Granted, CompactConsent.NoExpiry), compact.Find("marketing"));
        Assert.Equal(new PurposeState(ConsentStatus.Denied, Now.AddDays(1).UtcTicks), compact.Find("analytics"));

        CompactConsent.Project(new SubjectConsent(1, false, [record.Purposes[0]]), 0, 0, table, out shared);
        Assert.True(shared); // "marketing" took the one place
    }

    [Fact]
    public async Task A_subject_naming_a_purpose_past_the_table_bound_is_answered_from_the_store_and_not_cached()
    {
        var table = new PurposeNameTable(1);
        using var h = new CacheHarness(names: table);
        await h.GrantAsync("alice", "marketing");
        await h.GrantAsync("bob", "marketing");
        await h.DenyAsync("bob", "analytics");

        // alice fits (and takes the table's one place); bob does not.
        await h.LookupAsync("alice");
        Assert.Equal(ConsentSource.L1, (await h.LookupAsync("alice")).Source);
        for (var i = 0; i < 3; i++)
        {
            var bob = await h.LookupAsync("bob");
            Assert.Equal(ConsentSource.Store, bob.Source);
            Assert.Equal(ConsentStatus.Denied, bob.Consent!.Find("analytics")?.Status);
            Assert.Equal(ConsentStatus.Granted, bob.Consent.Find("marketing")?.Status);
        }

        Assert.Equal(4, h.Store.Reads);

        // An entry already cached is dropped, not left answering, when its refresh no longer fits.
        await h.DenyAsync("alice", "analytics");
        h.Clock.Advance(h.Options.CacheTtl);
        Assert.Equal(ConsentStatus.Denied, (await h.LookupAsync("alice")).Consent!.Find("analytics")?.Status);
        h.Store.Mode = StoreMode.Fail;
        Assert.Equal(ConsentSource.Unavailable, (await h.LookupAsync("alice")).Source);
    }

    [Fact]
    public async Task A_not_found_entry_is_fresh_for_the_negative_TTL_and_stale_until_TTL_plus_window()
    {
        using var h = new CacheHarness();
        Assert.True(h.Options.NegativeCacheTtl < h.Options.CacheTtl, "the test needs the two TTLs apart");
        await h.LookupAsync("nobody");
        h.Store.Mode = StoreMode.Fail;

        h.Clock.Advance(h.Options.NegativeCacheTtl - TimeSpan.FromTicks(1));
        Assert.Equal(ConsentSource.L1, (await h.LookupAsync("nobody")).Source);

        // The stale window counts from the fetch plus CacheTtl for "no record" too, as before the projection.
        h.Clock.Advance(h.Options.CacheTtl + h.Options.StaleGrantWindow - h.Options.NegativeCacheTtl);
        var stale = await h.LookupAsync("nobody");
        Assert.Equal(ConsentSource.Stale, stale.Source);
        Assert.True(stale.Consent!.NotFound);

        h.Clock.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(ConsentSource.Unavailable, (await h.LookupAsync("nobody")).Source);
    }

    [Fact]
    public void Evaluation_over_the_projection_answers_as_over_the_store_record()
    {
        var cases = 0;
        foreach (var basis in Enum.GetValues<LegalBasis>())
        foreach (var record in Records())
        {
            var compact = CompactConsent.From(record);
            foreach (var name in new[] { "target", "other", "absent" })
            {
                var purpose = new Purpose { Name = name, Index = 0, Basis = basis, Categories = [] };
                foreach (var gpcSignal in new[] { false, true })
                {
                    foreach (var source in new[] { ConsentSource.L1, ConsentSource.Store, ConsentSource.Stale, ConsentSource.Unavailable })
                    {
                        var known = source != ConsentSource.Unavailable;
                        var expected = ReferenceAllows(purpose, known ? record : null, known, gpcSignal, Now);
                        var lookup = known ? new ConsentLookupResult(compact, source) : ConsentLookupResult.Unavailable;
                        Assert.True(
                            expected == ConsentEvaluator.Allows(purpose, lookup, gpcSignal, Now),
                            $"{basis} {name} gpcSignal={gpcSignal} {source} record: gpc={record.Gpc} [{string.Join(", ", record.Purposes.Select(p => $"{p.Purpose}:{p.Status}:{p.ExpiresAt:O}"))}]");
                        cases++;
                    }
                }
            }
        }

        Assert.True(cases > 5000, $"only {cases} cases");
    }

    /// <summary>Every combination of GPC, the target purpose's state and its position (inline or spilled).</summary>
    private static IEnumerable<SubjectConsent> Records()
    {
        var fillers = new[]
        {
            new PurposeConsent("other", ConsentStatus.Denied, null, Now, null),
            new PurposeConsent("x1", ConsentStatus.Granted, null, Now, null),
            new PurposeConsent("x2", ConsentStatus.Denied, Now.AddDays(1), Now, null),
        };

        foreach (var gpc in new[] { false, true })
        {
            yield return new SubjectConsent(0, gpc, []);
            yield return new SubjectConsent(1, gpc, [.. fillers]); // target absent, "other" denied
            foreach (var status in new[] { ConsentStatus.Granted, ConsentStatus.Denied })
            {
                foreach (var expiry in Expiries)
                {
                    var target = new PurposeConsent("target", status, expiry, Now, "test");
                    for (var position = 0; position <= fillers.Length; position++)
                    {
                        var purposes = new List<PurposeConsent>(fillers);
                        purposes.Insert(position, target);
                        yield return new SubjectConsent(2, gpc, [.. purposes]);
                        yield return new SubjectConsent(2, gpc, [.. purposes.Take(position + 1)]);
                    }
                }
            }
        }
    }

    /// <summary>The evaluator's rules as they were written against the store's record, before L1 kept a projection.</summary>
    private static bool ReferenceAllows(Purpose purpose, SubjectConsent? consent, bool known, bool gpcSignal, DateTimeOffset now)
    {
        if (purpose.Basis is LegalBasis.Contract or LegalBasis.LegalObligation)
        {
            return true;
        }

        if (!known)
        {
            return false;
        }

        var record = consent?.Find(purpose.Name);
        return purpose.Basis switch
        {
            LegalBasis.Consent => record is { Status: ConsentStatus.Granted } && (record.ExpiresAt is null || record.ExpiresAt > now),
            LegalBasis.LegitimateInterest => record is not { Status: ConsentStatus.Denied },
            LegalBasis.OptOut => record is not { Status: ConsentStatus.Denied } && !gpcSignal && consent?.Gpc != true,
            _ => false,
        };
    }
}
