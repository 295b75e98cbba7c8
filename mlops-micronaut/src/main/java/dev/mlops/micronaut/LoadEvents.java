package dev.mlops.micronaut;

import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.api.event.LifecycleListener;
import dev.mlops.runtime.Mlops;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The last load failure of each model version, from the runtime's lifecycle events; a later
 * successful load of that version clears it. Read by the health indicators. Thread-safe.
 */
@Singleton
final class LoadEvents implements LifecycleListener {

  /** A version's last failed load. */
  record Failure(Instant time, Throwable cause) {}

  private final Map<String, Map<Long, Failure>> failures = new ConcurrentHashMap<>();
  private final AutoCloseable subscription;

  LoadEvents(Mlops mlops) {
    this.subscription = mlops.addListener(this);
  }

  @Override
  public void onEvent(LifecycleEvent event) {
    if (event instanceof LifecycleEvent.ModelLoadFailed f) {
      failures
          .computeIfAbsent(f.model(), m -> new ConcurrentHashMap<>())
          .put(f.version(), new Failure(f.time(), f.cause()));
    } else if (event instanceof LifecycleEvent.ModelLoaded l) {
      Map<Long, Failure> m = failures.get(l.model());
      if (m != null) {
        m.remove(l.version());
      }
    }
  }

  /** The last failed load of a version, unless it loaded since. */
  Optional<Failure> failure(String model, long version) {
    Map<Long, Failure> m = failures.get(model);
    return m == null ? Optional.empty() : Optional.ofNullable(m.get(version));
  }

  @PreDestroy
  void close() {
    MlopsFactory.closeQuietly(subscription);
  }
}
