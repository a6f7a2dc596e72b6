using ConsentGateway.Enforcement;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace ConsentGateway.Tests.Enforcement;

/// <summary>libcrypto's SHA256_Transform against the managed rounds, block by block, and the check that guards its use.</summary>
public class Sha256CompressionTests
{
    private static Sha256Compression LibCrypto => Assert.IsType<Sha256Compression>(Sha256Compression.LibCrypto, exactMatch: false);

    [Property(MaxTest = 500)]
    public Property Any_state_and_block_compress_alike() =>
        Prop.ForAll(
            Arb.From(
                from state in Gen.ArrayOf(Gen.Choose(int.MinValue, int.MaxValue).Select(i => (uint)i), 8)
                from block in Gen.ArrayOf(Gen.Choose(0, 255).Select(i => (byte)i), Sha256Compression.BlockSize)
                select (state, block)),
            c =>
            {
                var managed = new uint[Sha256Compression.StateWords];
                var native = new uint[Sha256Compression.StateWords];
                c.state.CopyTo(managed, 0);
                c.state.CopyTo(native, 0);
                Sha256Compression.Managed.Compress(managed, c.block, new uint[Sha256Compression.ScheduleWords]);
                LibCrypto.Compress(native, c.block, new uint[Sha256Compression.ScheduleWords]);
                return managed.AsSpan(0, 8).SequenceEqual(native.AsSpan(0, 8)) && !managed.AsSpan(0, 8).SequenceEqual(c.state);
            });

    [Fact]
    public void The_check_accepts_an_equal_function_and_refuses_one_that_differs_in_one_bit()
    {
        Assert.True(Sha256Compression.Agree(LibCrypto, Sha256Compression.Managed));
        Assert.False(Sha256Compression.Agree(new OneBitOff(), Sha256Compression.Managed));
    }

    [Fact]
    public void The_native_call_refuses_buffers_it_could_overrun()
    {
        var schedule = new uint[Sha256Compression.ScheduleWords];
        Assert.Throws<ArgumentException>(() => LibCrypto.Compress(new uint[8], new byte[Sha256Compression.BlockSize], schedule));
        Assert.Throws<ArgumentException>(() => LibCrypto.Compress(new uint[Sha256Compression.StateWords], new byte[Sha256Compression.BlockSize - 1], schedule));
    }

    /// <summary>The managed rounds with the last state bit flipped after the fifth block: what a wrong native library would look like.</summary>
    private sealed class OneBitOff : Sha256Compression
    {
        private int _blocks;

        public override string Name => "one bit off";

        public override void Compress(Span<uint> state, ReadOnlySpan<byte> block, Span<uint> schedule)
        {
            Managed.Compress(state, block, schedule);
            if (++_blocks == 5)
            {
                state[7] ^= 1;
            }
        }
    }
}
