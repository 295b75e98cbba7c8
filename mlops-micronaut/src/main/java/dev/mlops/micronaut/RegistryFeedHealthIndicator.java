package dev.mlops.micronaut;

import dev.mlops.api.spi.FeedStatus;
import dev.mlops.runtime.Mlops;
import io.micronaut.core.async.publisher.Publishers;
import io.micronaut.health.HealthStatus;
import io.micronaut.management.health.indicator.HealthIndicator;
import io.micronaut.management.health.indicator.HealthResult;
import jakarta.inject.Singleton;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.reactivestreams.Publisher;

/**
 * The state of a fleet registry's change feed, reported as {@code mlops-registry}: {@code UP} while
 * its listening connection is connected, {@code DOWN} while it reconnects (the predictors keep
 * serving; they only stop following moves made elsewhere), with {@code since}, {@code
 * lastNotification}, {@code reconnects}, {@code resyncs} and {@code lastFailure}. A registry with
 * no feed (the embedded directory) reports {@code UP} with {@code feed: none}. Thread-safe.
 */
@Singleton
public final class RegistryFeedHealthIndicator implements HealthIndicator {

  private final Mlops mlops;

  RegistryFeedHealthIndicator(Mlops mlops) {
    this.mlops = mlops;
  }

  @Override
  public Publisher<HealthResult> getResult() {
    Map<String, Object> details = new LinkedHashMap<>();
    Optional<FeedStatus> feed = mlops.registry().store().feedStatus();
    HealthStatus status = HealthStatus.UP;
    if (feed.isEmpty()) {
      details.put("feed", "none");
    } else {
      FeedStatus f = feed.get();
      details.put("feed", "postgresql");
      details.put("connected", f.connected());
      details.put("since", f.since().toString());
      f.lastNotification().ifPresent(t -> details.put("lastNotification", t.toString()));
      details.put("reconnects", f.reconnects());
      details.put("resyncs", f.resyncs());
      f.lastFailure().ifPresent(t -> details.put("lastFailure", t));
      status = f.connected() ? HealthStatus.UP : HealthStatus.DOWN;
    }
    return Publishers.just(HealthResult.builder("mlops-registry", status).details(details).build());
  }
}
