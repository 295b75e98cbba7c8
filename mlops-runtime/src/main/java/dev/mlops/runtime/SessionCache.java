package dev.mlops.runtime;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import dev.mlops.api.ArtifactLocation;
import dev.mlops.api.ClosedException;
import dev.mlops.api.MlopsException;
import dev.mlops.api.ModelLoadException;
import dev.mlops.api.ModelRegistry;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.api.spi.InferenceEngine;
import dev.mlops.api.spi.ModelSession;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loaded versions shared by every predictor of one runtime.
 *
 * <p>A Caffeine cache, bounded by a memory budget weighed in artifact bytes, keeps recently used
 * versions warm so that a rollback needs no load. Each version is loaded at most once at a time
 * (concurrent requests wait for the same load), verified against its digests and warmed up. The
 * cache holds one reference on every entry; eviction only drops that reference, so a version
 * that a predictor serves or a call is using stays open, and is found again (not loaded twice)
 * while it is open. The last reference closes the session.
 */
final class SessionCache {

  private static final Logger LOG = LoggerFactory.getLogger(SessionCache.class);

  private final ModelRegistry registry;
  private final InferenceEngine engine;
  private final Clock clock;
  private final Consumer<LifecycleEvent> events;
  private final AsyncCache<String, SessionHandle> cache;
  /** Every open handle, cached or not; an evicted handle still in use is reused from here. */
  private final ConcurrentHashMap<String, SessionHandle> open = new ConcurrentHashMap<>();
  private final AtomicLong opened = new AtomicLong();
  private final AtomicLong closed = new AtomicLong();
  private final Object drainMonitor = new Object();
  private volatile boolean shutdown;

  SessionCache(
      ModelRegistry registry,
      InferenceEngine engine,
      Clock clock,
      Consumer<LifecycleEvent> events,
      long budgetBytes) {
    this.registry = registry;
    this.engine = engine;
    this.clock = clock;
    this.events = events;
    // Removal only drops the cache's reference (a session in use stays open), so it is cheap
    // enough to run on the thread that caused it; that keeps eviction deterministic, which
    // tests and shutdown rely on. The runtime's executor still runs loads for hot swaps.
    this.cache =
        Caffeine.newBuilder()
            .executor(Runnable::run)
            .maximumWeight(budgetBytes)
            .weigher((String key, SessionHandle h) -> (int) Math.min(Integer.MAX_VALUE, Math.max(1, h.version.sizeBytes())))
            .removalListener((String key, SessionHandle h, RemovalCause cause) -> {
              if (h != null) {
                LOG.debug("dropping cached {} ({})", h.version.ref(), cause);
                h.release();
              }
            })
            .buildAsync();
  }

  private static String key(ModelVersion v) {
    return v.name() + "/" + v.version();
  }

  /**
   * Returns the loaded version with one reference taken for the caller, loading it if needed.
   *
   * @throws ModelLoadException (or an {@link dev.mlops.api.IntegrityException}) if it cannot load
   * @throws ClosedException if the runtime is shutting down
   */
  SessionHandle acquire(ModelVersion version) {
    String key = key(version);
    for (;;) {
      if (shutdown) {
        throw new ClosedException("the runtime is shutting down; " + version.ref() + " is not loaded");
      }
      CompletableFuture<SessionHandle> f = cache.getIfPresent(key);
      if (f == null) {
        SessionHandle live = open.get(key);
        if (live != null && live.tryAcquire()) {
          recache(key, live);
          return live;
        }
        CompletableFuture<SessionHandle> mine = new CompletableFuture<>();
        f = cache.asMap().putIfAbsent(key, mine);
        if (f == null) {
          try {
            SessionHandle h = load(key, version);
            h.tryAcquire(); // the caller's reference; the cache owns the first one
            mine.complete(h);
            return h;
          } catch (RuntimeException | Error e) {
            cache.asMap().remove(key, mine);
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
      // That handle is closing: drop its entry if it is still there and look again.
      cache.asMap().remove(key, f);
    }
  }

  /** Puts an open handle that was evicted but is still in use back into the cache. */
  private void recache(String key, SessionHandle h) {
    if (h.tryAcquire()) {
      if (cache.asMap().putIfAbsent(key, CompletableFuture.completedFuture(h)) != null) {
        h.release();
      }
    }
  }

  private SessionHandle load(String key, ModelVersion version) {
    long start = System.nanoTime();
    ModelSession session = null;
    try {
      ArtifactLocation location = registry.verifiedArtifact(version);
      session = engine.open(location);
      if (!session.signature().equals(version.signature())) {
        throw new ModelLoadException(version.ref() + " loaded with signature " + session.signature()
            + " but was registered with " + version.signature());
      }
      WarmUp.run(session, registry.inputExample(version), version.ref().toString());
      opened.incrementAndGet();
      SessionHandle h = new SessionHandle(version, session, closed -> onClosed(key, closed));
      open.put(key, h);
      long nanos = System.nanoTime() - start;
      LOG.info("loaded {} in {} ms", version.ref(), nanos / 1_000_000);
      events.accept(new LifecycleEvent.ModelLoaded(clock.instant(), version.name(), version.version(), nanos));
      return h;
    } catch (RuntimeException e) {
      if (session != null) {
        session.close();
      }
      LOG.warn("cannot load {}: {}", version.ref(), e.getMessage(), e);
      if (e instanceof ModelLoadException) {
        try {
          registry.recordLoadFailure(version, e);
        } catch (RuntimeException auditFailure) {
          LOG.warn("cannot audit the load failure of {}: {}", version.ref(), auditFailure.toString());
        }
      }
      events.accept(new LifecycleEvent.ModelLoadFailed(clock.instant(), version.name(), version.version(), e));
      if (e instanceof MlopsException) {
        throw e;
      }
      throw new ModelLoadException("cannot load " + version.ref() + ": " + e, e);
    }
  }

  private void onClosed(String key, SessionHandle h) {
    open.remove(key, h);
    closed.incrementAndGet();
    LOG.debug("closed session of {}", h.version.ref());
    events.accept(new LifecycleEvent.ModelUnloaded(clock.instant(), h.version.name(), h.version.version()));
    synchronized (drainMonitor) {
      drainMonitor.notifyAll();
    }
  }

  /** Drops the cache's reference on a version; it closes once nothing else uses it. */
  void evict(ModelVersion version) {
    cache.synchronous().invalidate(key(version));
  }

  /** Drops every cached reference. */
  void evictAll() {
    cache.synchronous().invalidateAll();
  }

  /** Stops new loads, drops every cached reference and waits until every session is closed. */
  boolean shutdown(Duration timeout) {
    shutdown = true;
    evictAll();
    cache.synchronous().cleanUp();
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (drainMonitor) {
      while (opened.get() != closed.get()) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(drainMonitor, left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
      }
    }
    return true;
  }

  long sessionsOpened() {
    return opened.get();
  }

  long sessionsClosed() {
    return closed.get();
  }

  /** Sum of the artifact sizes of the cached versions. */
  long cachedWeight() {
    return cache.synchronous().policy().eviction().map(e -> e.weightedSize().orElse(0L)).orElse(0L);
  }

  /** Versions open now, cached or in use. */
  int openCount() {
    return open.size();
  }
}
