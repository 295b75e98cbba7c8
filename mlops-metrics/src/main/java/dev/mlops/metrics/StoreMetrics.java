package dev.mlops.metrics;

import dev.mlops.api.spi.FeedStatus;
import dev.mlops.api.spi.TransferStatus;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.BaseUnits;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Meters for a shared registry's connections: the change feed's listener (a PostgreSQL registry's
 * LISTEN connection) and a remote artifact store's downloads into its local cache. Each meter reads
 * its supplier when it is scraped, so nothing runs between scrapes.
 *
 * <pre>{@code
 * GovernedRegistry registry = mlops.registry();
 * StoreMetrics.of(registry.store()::feedStatus, registry.artifacts()::transferStatus)
 *     .bindTo(meterRegistry);
 * }</pre>
 *
 * <table>
 *   <caption>Meters</caption>
 *   <tr><th>Name</th><th>Type</th><th>What</th></tr>
 *   <tr><td>{@value #FEED_CONNECTED}</td><td>Gauge</td><td>1 while the listener is connected, 0
 *       otherwise</td></tr>
 *   <tr><td>{@value #FEED_NOTIFICATION_AGE}</td><td>Gauge (seconds)</td><td>since the last
 *       notification; NaN before the first</td></tr>
 *   <tr><td>{@value #FEED_RECONNECTS}</td><td>FunctionCounter</td><td>connections lost and made
 *       again</td></tr>
 *   <tr><td>{@value #FEED_RESYNCS}</td><td>FunctionCounter</td><td>resyncs asked of the
 *       registry</td></tr>
 *   <tr><td>{@value #DOWNLOADS}</td><td>FunctionCounter</td><td>files fetched into the local
 *       cache</td></tr>
 *   <tr><td>{@value #DOWNLOADED}</td><td>FunctionCounter (bytes)</td><td>bytes fetched</td></tr>
 *   <tr><td>{@value #REFETCHES}</td><td>FunctionCounter</td><td>cached files found corrupt and
 *       fetched again</td></tr>
 *   <tr><td>{@value #DOWNLOADS_ACTIVE}</td><td>Gauge</td><td>downloads running now</td></tr>
 *   <tr><td>{@value #DOWNLOADS_REMAINING}</td><td>Gauge (bytes)</td><td>bytes the running
 *       downloads have still to fetch</td></tr>
 * </table>
 *
 * <p>A store without a feed or without downloads reports its meters as 0 (and NaN for the age):
 * they exist from binding on, so dashboards and alerts need no special case. Thread-safe.
 */
public final class StoreMetrics implements MeterBinder {

  /** Gauge: 1 while the feed's listener is connected. */
  public static final String FEED_CONNECTED = "mlops.registry.feed.connected";

  /** Gauge: seconds since the last notification. */
  public static final String FEED_NOTIFICATION_AGE = "mlops.registry.feed.notification.age";

  /** Counter: connections lost and made again. */
  public static final String FEED_RECONNECTS = "mlops.registry.feed.reconnects";

  /** Counter: resyncs. */
  public static final String FEED_RESYNCS = "mlops.registry.feed.resyncs";

  /** Counter: files fetched into the local cache. */
  public static final String DOWNLOADS = "mlops.artifacts.downloads";

  /** Counter: bytes fetched into the local cache. */
  public static final String DOWNLOADED = "mlops.artifacts.downloaded";

  /** Counter: cached files found corrupt and fetched again. */
  public static final String REFETCHES = "mlops.artifacts.refetches";

  /** Gauge: downloads running now. */
  public static final String DOWNLOADS_ACTIVE = "mlops.artifacts.downloads.active";

  /** Gauge: bytes the running downloads have still to fetch. */
  public static final String DOWNLOADS_REMAINING = "mlops.artifacts.downloads.remaining";

  private final Supplier<Optional<FeedStatus>> feed;
  private final Supplier<Optional<TransferStatus>> transfers;
  private final Clock clock;

  private StoreMetrics(
      Supplier<Optional<FeedStatus>> feed,
      Supplier<Optional<TransferStatus>> transfers,
      Clock clock) {
    this.feed = Objects.requireNonNull(feed, "feed");
    this.transfers = Objects.requireNonNull(transfers, "transfers");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * Meters over these suppliers, typically {@code registry.store()::feedStatus} and {@code
   * registry.artifacts()::transferStatus}; the age is measured on the system clock.
   */
  public static StoreMetrics of(
      Supplier<Optional<FeedStatus>> feed, Supplier<Optional<TransferStatus>> transfers) {
    return new StoreMetrics(feed, transfers, Clock.systemUTC());
  }

  /** As {@link #of(Supplier, Supplier)}, measuring the notification age on {@code clock}. */
  public static StoreMetrics of(
      Supplier<Optional<FeedStatus>> feed,
      Supplier<Optional<TransferStatus>> transfers,
      Clock clock) {
    return new StoreMetrics(feed, transfers, clock);
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    Gauge.builder(
            FEED_CONNECTED, this, m -> m.feed().map(f -> f.connected() ? 1.0 : 0.0).orElse(0.0))
        .description("1 while the registry's change-feed listener is connected")
        // Held strongly, so that the function counters' weak references to this binder stay
        // valid when the caller keeps no reference to it.
        .strongReference(true)
        .register(registry);
    Gauge.builder(FEED_NOTIFICATION_AGE, this, StoreMetrics::notificationAgeSeconds)
        .description("Seconds since the registry's change feed last received a notification")
        .baseUnit("seconds")
        .register(registry);
    FunctionCounter.builder(
            FEED_RECONNECTS, this, m -> m.feed().map(FeedStatus::reconnects).orElse(0L))
        .description(
            "Times the registry's change-feed listener lost its connection and got it back")
        .register(registry);
    FunctionCounter.builder(FEED_RESYNCS, this, m -> m.feed().map(FeedStatus::resyncs).orElse(0L))
        .description("Times the registry was asked to resync from the store")
        .register(registry);
    FunctionCounter.builder(
            DOWNLOADS, this, m -> m.transfers().map(TransferStatus::downloads).orElse(0L))
        .description("Artifact files fetched into the local cache")
        .register(registry);
    FunctionCounter.builder(
            DOWNLOADED, this, m -> m.transfers().map(TransferStatus::downloadedBytes).orElse(0L))
        .description("Bytes of artifact files fetched into the local cache")
        .baseUnit(BaseUnits.BYTES)
        .register(registry);
    FunctionCounter.builder(
            REFETCHES, this, m -> m.transfers().map(TransferStatus::refetches).orElse(0L))
        .description("Cached artifact files found corrupt and fetched again")
        .register(registry);
    Gauge.builder(
            DOWNLOADS_ACTIVE, this, m -> m.transfers().map(t -> t.inFlight().size()).orElse(0))
        .description("Artifact downloads running now")
        .register(registry);
    Gauge.builder(DOWNLOADS_REMAINING, this, StoreMetrics::remainingBytes)
        .description("Bytes the running artifact downloads have still to fetch")
        .baseUnit(BaseUnits.BYTES)
        .register(registry);
  }

  private Optional<FeedStatus> feed() {
    return feed.get();
  }

  private Optional<TransferStatus> transfers() {
    return transfers.get();
  }

  private double notificationAgeSeconds() {
    return feed()
        .flatMap(FeedStatus::lastNotification)
        .map(t -> Duration.between(t, clock.instant()).toNanos() / 1e9)
        .orElse(Double.NaN);
  }

  private double remainingBytes() {
    return transfers()
        .map(
            t ->
                (double)
                    t.inFlight().stream()
                        .mapToLong(x -> Math.max(0, x.totalBytes() - x.doneBytes()))
                        .sum())
        .orElse(0.0);
  }

  @Override
  public String toString() {
    return "StoreMetrics";
  }
}
