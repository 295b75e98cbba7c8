package dev.mlops.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlops.api.spi.FeedStatus;
import dev.mlops.api.spi.TransferStatus;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** {@link StoreMetrics}: each meter reads the status it was given, at scrape time. */
class StoreMetricsTest {

  private static final Instant NOW = Instant.parse("2026-12-02T10:00:00Z");

  @Test
  void metersFollowTheFeedAndTransferStatusAsTheyChange() {
    AtomicReference<Optional<FeedStatus>> feed = new AtomicReference<>(Optional.empty());
    AtomicReference<Optional<TransferStatus>> transfers = new AtomicReference<>(Optional.empty());
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    StoreMetrics.of(feed::get, transfers::get, Clock.fixed(NOW, ZoneOffset.UTC)).bindTo(registry);
    System.gc(); // the binder is referenced by nothing but its meters: they must keep it

    assertThat(registry.get(StoreMetrics.FEED_CONNECTED).gauge().value()).isEqualTo(0.0);
    assertThat(registry.get(StoreMetrics.FEED_NOTIFICATION_AGE).gauge().value()).isNaN();
    assertThat(registry.get(StoreMetrics.DOWNLOADS).functionCounter().count()).isEqualTo(0.0);

    feed.set(
        Optional.of(
            new FeedStatus(
                true,
                NOW.minusSeconds(60),
                Optional.of(NOW.minusMillis(2500)),
                Optional.of(NOW.minusSeconds(60)),
                3,
                4,
                Optional.of("boom"))));
    transfers.set(
        Optional.of(
            new TransferStatus(
                7,
                1000,
                2,
                List.of(
                    new TransferStatus.Transfer("d", "model.onnx", 300, 500, NOW),
                    new TransferStatus.Transfer("d", "weights.bin", 10, 110, NOW)))));

    assertThat(registry.get(StoreMetrics.FEED_CONNECTED).gauge().value()).isEqualTo(1.0);
    assertThat(registry.get(StoreMetrics.FEED_NOTIFICATION_AGE).gauge().value()).isEqualTo(2.5);
    assertThat(registry.get(StoreMetrics.FEED_RECONNECTS).functionCounter().count()).isEqualTo(3.0);
    assertThat(registry.get(StoreMetrics.FEED_RESYNCS).functionCounter().count()).isEqualTo(4.0);
    assertThat(registry.get(StoreMetrics.DOWNLOADS).functionCounter().count()).isEqualTo(7.0);
    assertThat(registry.get(StoreMetrics.DOWNLOADED).functionCounter().count()).isEqualTo(1000.0);
    assertThat(registry.get(StoreMetrics.REFETCHES).functionCounter().count()).isEqualTo(2.0);
    assertThat(registry.get(StoreMetrics.DOWNLOADS_ACTIVE).gauge().value()).isEqualTo(2.0);
    assertThat(registry.get(StoreMetrics.DOWNLOADS_REMAINING).gauge().value()).isEqualTo(300.0);
  }
}
