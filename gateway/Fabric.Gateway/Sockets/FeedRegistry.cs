using System.Collections.Concurrent;
using Fabric.Contracts;
using Fabric.Gateway.Customers;
using Fabric.Gateway.Http;
using Fabric.Gateway.Telemetry;
using Fabric.Hosting.Telemetry;
using Microsoft.Extensions.Options;

namespace Fabric.Gateway.Sockets;

/// <summary>
/// The customers this gateway holds sockets for, each with its <see cref="CustomerFeed"/>, and this gateway's
/// registration with their grains: one observer per process, not per socket.
/// </summary>
internal sealed partial class FeedRegistry
{
    private readonly CustomerGrains _grains;
    private readonly SocketOptions _options;
    private readonly ILogger<FeedRegistry> _logger;
    private readonly HashSet<string> _traceWrites;
    private readonly TimeProvider _clock;
    private readonly ConcurrentDictionary<string, CustomerFeed> _feeds = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly GatewayObserver _observer;
    private readonly Backoff _registrationRetry;
    private IGatewayObserver? _observerReference;
    private long _generation;

    public FeedRegistry(CustomerGrains grains, IOptions<SocketOptions> options, IOptions<TelemetryOptions> telemetry, TimeProvider clock, ILogger<FeedRegistry> logger)
    {
        _clock = clock;
        _registrationRetry = new Backoff(TimeSpan.FromMilliseconds(100), 2, options.Value.RegistrationRetryMax, Jitter: 0.2);
        _grains = grains;
        _options = options.Value;
        _logger = logger;
        _traceWrites = [.. telemetry.Value.DebugCustomers];
        GatewayTelemetry.ObserveSendQueue(this, () => AllSessions().Sum(s => s.QueuedBytes));
        // Orleans holds local observers weakly: this field is the strong reference that keeps pushes arriving.
        _observer = new GatewayObserver(this);
    }

    /// <summary>Identifies this gateway process to the grains.</summary>
    public string GatewayId { get; } = $"{Environment.MachineName}-{Guid.NewGuid():N}";

    private IGatewayObserver ObserverReference
    {
        get
        {
            lock (_lock)
            {
                return _observerReference ??= _grains.Factory.CreateObjectReference<IGatewayObserver>(_observer);
            }
        }
    }

    /// <summary>Adds a socket to its customer's feed, creating and registering the feed for the first socket.</summary>
    public FeedMember Attach(SocketSession session)
    {
        CustomerFeed feed;
        FeedMember member;
        bool created;
        lock (_lock)
        {
            created = !_feeds.TryGetValue(session.Customer, out feed!);
            if (created)
            {
                feed = new CustomerFeed(session.Customer, _grains.Get(session.Customer), _options, _logger, _traceWrites.Contains(session.Customer), _clock);
                feed.RenewalNeeded += RenewNow;
                _feeds[session.Customer] = feed;
            }

            member = feed.Add(session);
        }

        if (created)
        {
            _ = RegisterUntilDoneAsync(feed);
        }

        return member;
    }

    /// <summary>Removes a socket; the last socket of a customer takes the feed and the registration with it.</summary>
    public void Detach(FeedMember member)
    {
        var feed = member.Feed;
        long generation;
        lock (_lock)
        {
            if (!feed.Remove(member) || !_feeds.TryRemove(new KeyValuePair<string, CustomerFeed>(feed.Customer, feed)))
            {
                return;
            }

            generation = ++_generation;
        }

        feed.Stop();
        _ = UnregisterAsync(feed.Customer, generation);
    }

    public void OnEvents(EventBatch batch)
    {
        if (_feeds.TryGetValue(batch.Customer, out var feed))
        {
            feed.OnEvents(batch);
        }
    }

    /// <summary>
    /// Renews every registration. Grains forget gateways that stop renewing, and a grain reactivated elsewhere after a
    /// silo loss starts with none; renewing also reports the grain's newest seq, which reveals a lost final push.
    /// </summary>
    public async Task RenewAllAsync()
    {
        // Concurrently (bounded): after a silo loss, the calls to grains it hosted wait out the response timeout, and
        // one at a time they would hold up every other customer's renewal behind them.
        await Parallel.ForEachAsync(_feeds.Values.ToArray(), new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (feed, _) =>
        {
            try
            {
                await RegisterAsync(feed);
            }
            catch (Exception ex)
            {
                // Any failure, cancellations included (a timed-out call can surface as one): one customer's failure must
                // not end renewal for the others, or stop the renewal loop.
                Log.RenewFailed(_logger, ex, feed.Customer);
            }
        });
    }

    /// <summary>
    /// Asks for renewals now and every second for a while: the cluster changed (a silo came or went), so grains may
    /// have been reactivated elsewhere without this gateway's registration.
    /// </summary>
    public void RenewSoon() => RenewSoonRequested?.Invoke();

    public event Action? RenewSoonRequested;

    public IEnumerable<SocketSession> AllSessions() => _feeds.Values.SelectMany(f => f.Members()).Select(m => m.Session);

    /// <summary>
    /// Generations are taken under the registry lock and only for feeds still registered, so every Subscribe of a live
    /// feed outranks the Unsubscribe before it and is outranked by the one after it, however the calls are reordered.
    /// </summary>
    private async Task RegisterAsync(CustomerFeed feed)
    {
        long generation;
        lock (_lock)
        {
            if (!_feeds.TryGetValue(feed.Customer, out var current) || current != feed)
            {
                return;
            }

            generation = ++_generation;
        }

        var grain = _grains.Get(feed.Customer);
        var registration = await grain.Subscribe(GatewayId, generation, ObserverReference, feed.Witness());
        feed.OnRegistered(registration);
        var members = feed.Members();
        if (registration.Sessions != members.Length)
        {
            // The grain holds another number of this gateway's sessions: it was reactivated (sessions live in its memory),
            // or calls were lost. Hand it the truth.
            Log.SyncingSessions(_logger, feed.Customer, members.Length, registration.Sessions);
            await grain.SyncSessions(GatewayId, [.. members.Select(m => m.Describe(GatewayId))]);
        }
    }

    /// <summary>
    /// Tells the customer's grain what a session holds now (topics, watched topics), so presence and the admin list see it.
    /// Awaited, so a <c>presence</c> right after a <c>subscribe</c> includes the socket; a failure is left to the next
    /// renewal, which hands the grain every session again when its count is off.
    /// </summary>
    public async Task UpdateSessionAsync(FeedMember member)
    {
        try
        {
            await _grains.Get(member.Feed.Customer).UpdateSession(member.Describe(GatewayId));
        }
        catch (Exception ex) when (ClusterFailure.Is(ex))
        {
            Log.SessionUpdateFailed(_logger, ex, member.Feed.Customer);
        }
    }

    /// <summary>A socket ended: its grain forgets it (best effort; a missed call is fixed by the next renewal's count).</summary>
    public void Disconnected(SocketSession session) => _ = DisconnectAsync(session.Customer, session.Id);

    private async Task DisconnectAsync(string customer, string session)
    {
        try
        {
            await _grains.Get(customer).Disconnect(GatewayId, session);
        }
        catch (Exception ex) when (ClusterFailure.Is(ex))
        {
            Log.SessionUpdateFailed(_logger, ex, customer);
        }
    }

    /// <summary>A join or leave: every socket of this gateway watching the topic gets it, serialized once.</summary>
    public void OnPresence(PresenceChange change)
    {
        if (!_feeds.TryGetValue(change.Customer, out var feed))
        {
            return;
        }

        feed.SendToWatchers(change.Topic, () => SocketReplies.Membership(change.Joined, change.Topic, SocketCommands.Member(change.Member)));
    }

    /// <summary>An operator closed a session: 4003, whichever customer feed holds it here.</summary>
    public void OnKick(string customer, string session)
    {
        if (_feeds.TryGetValue(customer, out var feed) && feed.Members().FirstOrDefault(m => m.Session.Id == session) is { } found)
        {
            Log.Kicked(_logger, session, customer);
            found.Session.RequestClose(CloseCodes.DisconnectedByOperator, "disconnected by the operator");
        }
    }

    /// <summary>A feed saw the log contradict it: renew its registration now, carrying the feed's witness.</summary>
    private void RenewNow(CustomerFeed feed) => _ = RenewOneAsync(feed);

    private async Task RenewOneAsync(CustomerFeed feed)
    {
        try
        {
            await RegisterAsync(feed);
        }
        catch (Exception ex)
        {
            // The periodic renewal tries again.
            Log.RenewFailed(_logger, ex, feed.Customer);
        }
    }

    private async Task RegisterUntilDoneAsync(CustomerFeed feed)
    {
        // Sockets wait on the feed being ready, so a failed first registration is retried rather than left hanging.
        for (var attempt = 1; !feed.IsStopped; attempt++)
        {
            try
            {
                await RegisterAsync(feed);
                return;
            }
            catch (Exception ex)
            {
                // Cancellations too: sockets wait on this feed, so only the feed stopping ends the retries.
                Log.RegisterFailed(_logger, ex, feed.Customer, attempt);
                await Task.Delay(_registrationRetry.Delay(attempt), _clock, CancellationToken.None);
            }
        }
    }

    private async Task UnregisterAsync(string customer, long generation)
    {
        try
        {
            await _grains.Get(customer).Unsubscribe(GatewayId, generation);
        }
        catch (Exception ex) when (ClusterFailure.Is(ex))
        {
            // Harmless: the grain drops the registration when it is not renewed.
            Log.UnregisterFailed(_logger, ex, customer);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(400, LogLevel.Warning, "Registering with customer {Customer} failed (attempt {Attempt})")]
        public static partial void RegisterFailed(ILogger logger, Exception exception, string customer, int attempt);

        [LoggerMessage(401, LogLevel.Warning, "Renewing the registration with customer {Customer} failed")]
        public static partial void RenewFailed(ILogger logger, Exception exception, string customer);

        [LoggerMessage(403, LogLevel.Debug, "Updating a session with customer {Customer} failed; the next renewal hands the grain every session again")]
        public static partial void SessionUpdateFailed(ILogger logger, Exception exception, string customer);

        [LoggerMessage(405, LogLevel.Information, "Customer {Customer}'s grain holds {Held} of this gateway's {Sessions} sessions: handing it the list")]
        public static partial void SyncingSessions(ILogger logger, string customer, int sessions, int held);

        [LoggerMessage(404, LogLevel.Information, "Socket {Session} of customer {Customer} closed by the operator")]
        public static partial void Kicked(ILogger logger, string session, string customer);

        [LoggerMessage(402, LogLevel.Debug, "Unregistering from customer {Customer} failed")]
        public static partial void UnregisterFailed(ILogger logger, Exception exception, string customer);
    }
}
