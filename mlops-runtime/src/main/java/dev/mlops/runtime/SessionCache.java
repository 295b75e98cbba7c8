package dev.mlops.runtime;

import dev.mlops.api.ArtifactLocation;
import dev.mlops.api.ModelLoadException;
import dev.mlops.api.ModelRegistry;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.MlopsException;
import dev.mlops.api.Tensor;
import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.api.spi.InferenceEngine;
import dev.mlops.api.spi.ModelSession;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loaded versions shared by every predictor of one runtime: each version is loaded at most once
 * at a time (concurrent requests wait for the same load), verified against its digests, warmed
 * up, and closed when its last reference is released.
 */
final class SessionCache {

  private static final Logger LOG = LoggerFactory.getLogger(SessionCache.class);

  private final ModelRegistry registry;
  private final InferenceEngine engine;
  private final Clock clock;
  private final Consumer<LifecycleEvent> events;
  private final ConcurrentHashMap<String, CompletableFuture<SessionHandle>> loaded = new ConcurrentHashMap<>();
  private final AtomicLong opened = new AtomicLong();
  private final AtomicLong closed = new AtomicLong();

  SessionCache(ModelRegistry registry, InferenceEngine engine, Clock clock, Consumer<LifecycleEvent> events) {
    this.registry = registry;
    this.engine = engine;
    this.clock = clock;
    this.events = events;
  }

  /**
   * Returns the loaded version with one reference taken for the caller, loading it if needed.
   *
   * @throws ModelLoadException (or an {@link dev.mlops.api.IntegrityException}) if it cannot load
   */
  SessionHandle acquire(ModelVersion version) {
    String key = version.name() + "/" + version.version();
    for (;;) {
      CompletableFuture<SessionHandle> f = loaded.get(key);
      if (f == null) {
        CompletableFuture<SessionHandle> mine = new CompletableFuture<>();
        f = loaded.putIfAbsent(key, mine);
        if (f == null) {
          try {
            SessionHandle h = load(key, version, mine);
            mine.complete(h);
            return h;
          } catch (RuntimeException | Error e) {
            loaded.remove(key, mine);
            mine.completeExceptionally(e);
            throw e;
          }
        }
      }
      SessionHandle h;
      try {
        h = f.join();
      } catch (CompletionException e) {
        if (e.getCause() instanceof MlopsException) {
          throw (MlopsException) e.getCause();
        }
        throw new ModelLoadException("loading " + version.ref() + " failed: " + e.getCause(), e.getCause());
      }
      if (h.tryAcquire()) {
        return h;
      }
      // That handle is closing; drop its entry (if still there) and load afresh.
      loaded.remove(key, f);
    }
  }

  private SessionHandle load(String key, ModelVersion version, CompletableFuture<SessionHandle> entry) {
    long start = System.nanoTime();
    ModelSession session = null;
    try {
      ArtifactLocation location = registry.verifiedArtifact(version);
      session = engine.open(location);
      if (!session.signature().equals(version.signature())) {
        throw new ModelLoadException(
            version.ref() + " loaded with signature " + session.signature() + " but was registered with " + version.signature());
      }
      warmUp(version, session);
      opened.incrementAndGet();
      ModelSession s = session;
      SessionHandle h =
          new SessionHandle(
              version,
              s,
              () -> {
                loaded.remove(key, entry);
                closed.incrementAndGet();
                LOG.debug("closed session of {}", version.ref());
                events.accept(new LifecycleEvent.ModelUnloaded(clock.instant(), version.name(), version.version()));
              });
      long nanos = System.nanoTime() - start;
      LOG.info("loaded {} in {} ms", version.ref(), nanos / 1_000_000);
      events.accept(new LifecycleEvent.ModelLoaded(clock.instant(), version.name(), version.version(), nanos));
      return h;
    } catch (RuntimeException e) {
      if (session != null) {
        session.close();
      }
      LOG.warn("cannot load {}: {}", version.ref(), e.getMessage());
      events.accept(new LifecycleEvent.ModelLoadFailed(clock.instant(), version.name(), version.version(), e));
      if (e instanceof MlopsException) {
        throw e;
      }
      throw new ModelLoadException("cannot load " + version.ref() + ": " + e, e);
    }
  }

  private void warmUp(ModelVersion version, ModelSession session) {
    Map<String, Tensor> inputs = registry.inputExample(version).orElseGet(() -> SyntheticInputs.of(session.signature()));
    try {
      InputValidator.check(session.signature(), inputs);
      session.run(inputs);
    } catch (RuntimeException e) {
      throw new ModelLoadException("warm-up of " + version.ref() + " failed: " + e.getMessage(), e);
    }
  }

  long sessionsOpened() {
    return opened.get();
  }

  long sessionsClosed() {
    return closed.get();
  }

  int size() {
    return loaded.size();
  }
}
