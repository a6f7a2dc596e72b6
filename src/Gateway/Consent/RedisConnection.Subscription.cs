using StackExchange.Redis;

namespace ConsentGateway.Consent;

/// <summary>The change subscription's state: confirmed, lost, and re-subscribed when the library does not.</summary>
internal sealed partial class RedisConnection
{
    /// <summary>
    /// Declares the subscription active only once the server has confirmed it (the library records the
    /// subscribed endpoint from the SUBSCRIBE reply), and lost when that confirmation disappears.
    /// </summary>
    private async Task MonitorAsync(ConnectionMultiplexer mux, CancellationToken stopping)
    {
        var subscriber = mux.GetSubscriber();
        long? unconfirmedSince = null;
        while (!stopping.IsCancellationRequested)
        {
            long epoch;
            lock (_stateGate)
            {
                epoch = _lossEpoch;
            }

            bool linked, confirmed;
            try
            {
                linked = mux.IsConnected && subscriber.IsConnected(Channel);
                confirmed = linked && subscriber.SubscribedEndpoint(Channel) is not null;
            }
            catch (ObjectDisposedException)
            {
                return; // synchronous Dispose closed the multiplexer under us: shutting down
            }

            if (confirmed)
            {
                unconfirmedSince = null;
                MarkRestored(epoch);
            }
            else
            {
                if (IsSubscribed)
                {
                    MarkLost("subscription no longer confirmed");
                }

                if (!linked)
                {
                    unconfirmedSince = null; // the library resubscribes on reconnect; give it that chance first
                }
                else if (unconfirmedSince is not { } since)
                {
                    unconfirmedSince = _time.GetTimestamp();
                }
                else if (_time.GetElapsedTime(since) >= ResubscribeAfter)
                {
                    try
                    {
                        await ResubscribeAsync(subscriber).ConfigureAwait(false);
                    }
                    catch (ObjectDisposedException)
                    {
                        return; // as above: shutting down
                    }

                    unconfirmedSince = _time.GetTimestamp();
                }
            }

            UpdateUpGauge();
            try
            {
                await Task.Delay(IsSubscribed ? HealthyPoll : RecoveryPoll, _time, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task ResubscribeAsync(ISubscriber subscriber)
    {
        ConsentLog.Resubscribing(_logger, ResubscribeAfter);

        // Both calls change the handler registry before any I/O, so whatever the server answers, our
        // handler ends up registered exactly once: dropping it first keeps a second Subscribe from
        // adding it twice (every notification would then be handled twice).
        try
        {
            await subscriber.UnsubscribeAsync(Channel, _onMessage).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            ConsentLog.SubscribeFailed(_logger, ex);
        }

        try
        {
            await subscriber.SubscribeAsync(Channel, _onMessage).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            ConsentLog.SubscribeFailed(_logger, ex);
        }
    }

    private void MarkLost(string reason)
    {
        lock (_stateGate)
        {
            // Every failure starts a new epoch, so a confirmation observed before it cannot restore after it.
            _lossEpoch++;
            if (!_subscribed)
            {
                return;
            }

            _subscribed = false;
            _hub.SubscriptionLost();
        }

        _metrics.Invalidations.Inc();
        ConsentLog.SubscriptionLost(_logger, reason);
        UpdateUpGauge();
    }

    private void MarkRestored(long observedEpoch)
    {
        lock (_stateGate)
        {
            if (_subscribed || observedEpoch != _lossEpoch)
            {
                return;
            }

            _subscribed = true;
            _hub.SubscriptionRestored();
        }

        _metrics.Invalidations.Inc();
        ConsentLog.SubscriptionActive(_logger);
        UpdateUpGauge();
    }
}
