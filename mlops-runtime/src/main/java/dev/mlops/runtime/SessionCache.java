package dev.mlops.runtime;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import dev.mlops.api.ClosedException;
import dev.mlops.api.MlopsException;
import dev.mlops.api.ModelLoadException;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.SessionOptions;
import dev.mlops.api.Tensor;
import dev.mlops.api.WarmUpPolicy;
import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.api.spi.InferenceEngine;
import dev.mlops.api.spi.ModelSession;
import dev.mlops.runtime.loading.SyntheticInputs;
import dev.mlops.runtime.loading.WarmUp;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.runtime.registry.VerifiedArtifact;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loaded versions shared by every predictor of one runtime.
 *
 * <p>A Caffeine cache, bounded by a memory budget weighed in artifact bytes, keeps recently used
 * versions warm so that a rollback needs no load. A version is cached per {@link SessionOptions}
 * (two predictors with different options load a session each). Each is loaded at most once at a
 * time (concurrent requests wait for the same load), verified against its digests and warmed up as
 * the requester's {@link WarmUpPolicy} says. The cache holds one reference on every entry; eviction
 * only drops that reference, so a version that a predictor serves or a call is using stays open,
 * and is found again (not loaded twice) while it is open. The last reference closes the session.
 *
 * <p>Loads in flight are tracked here, not in Caffeine, so a failed load never reaches Caffeine
 * (which would log it through the JDK logger, bypassing SLF4J).
 */
final class SessionCache {

  private static final Logger LOG = LoggerFactory.getLogger(SessionCache.class);

  /** The options that set a runtime's warm-up deadline, named when a warm-up passes it. */
  static final String DEADLINE_SETTING =
      "Mlops.builder().warmUpDeadline(...) or newPredictor(...).warmUpDeadline(...)";

  /** What a session is cached under: the version and the options it was opened with. */
  record Key(String model, long version, SessionOptions options) {
    static Key of(ModelVersion v, SessionOptions options) {
      return new Key(v.name(), v.version(), options);
    }

    boolean isOf(ModelVersion v) {
      return model.equals(v.name()) && version == v.version();
    }
  }

  private final GovernedRegistry registry;
  private final InferenceEngine engine;
  private final Clock clock;
  private final LongSupplier ticker;
  private final Consumer<LifecycleEvent> events;
  private final Cache<Key, SessionHandle> cache;

  /** Loads in flight; each key is loaded by one thread while others wait on its future. */
  private final ConcurrentHashMap<Key, CompletableFuture<SessionHandle>> loading =
      new ConcurrentHashMap<>();

  /** Every open handle, cached or not; an evicted handle still in use is reused from here. */
  private final ConcurrentHashMap<Key, SessionHandle> open = new ConcurrentHashMap<>();

  /**
   * Versions whose best-effort warm-up failure was logged, so that a reload does not log it again.
   */
  private final Set<String> warmUpWarned = ConcurrentHashMap.newKeySet();

  private final AtomicLong opened = new AtomicLong();
  private final AtomicLong closed = new AtomicLong();
  private final Object drainMonitor = new Object();
  private volatile boolean shutdown;
  private final java.util.concurrent.Executor closer;

  SessionCache(
      GovernedRegistry registry,
      InferenceEngine engine,
      Clock clock,
      LongSupplier ticker,
      Consumer<LifecycleEvent> events,
      long budgetBytes,
      java.util.concurrent.Executor closer) {
    this.closer = closer;
    this.registry = registry;
    this.engine = engine;
    this.clock = clock;
    this.ticker = ticker;
    this.events = events;
    // Removal only drops the cache's reference (a session in use stays open), so it is cheap
    // enough to run on the thread that caused it; that keeps eviction deterministic, which
    // tests and shutdown rely on.
    this.cache =
        Caffeine.newBuilder()
            .executor(Runnable::run)
            .maximumWeight(budgetBytes)
            .weigher(
                (Key key, SessionHandle h) ->
                    (int) Math.min(Integer.MAX_VALUE, Math.max(1, h.version.sizeBytes())))
            .removalListener(
                (Key key, SessionHandle h, RemovalCause cause) -> {
                  if (h != null) {
                    LOG.debug("dropping cached {} ({})", h.version.ref(), cause);
                    h.release();
                  }
                })
            .build();
  }

  /**
   * Returns the loaded version with one reference taken for the caller, loading it if needed and
   * warming it up as {@code policy} says (a session loaded under a laxer policy is warmed up now),
   * each warm-up run within {@code deadline}.
   *
   * @throws ModelLoadException (or an {@link dev.mlops.api.IntegrityException}) if it cannot load,
   *     or the policy requires an input example the version lacks
   * @throws ClosedException if the runtime is shutting down
   */
  SessionHandle acquire(
      ModelVersion version, SessionOptions options, WarmUpPolicy policy, Duration deadline) {
    if (policy == WarmUpPolicy.REQUIRE_INPUT_EXAMPLE && !version.hasInputExample()) {
      throw WarmUp.missingExample(version.ref().toString());
    }
    Key key = Key.of(version, options);
    for (; ; ) {
      if (shutdown) {
        throw new ClosedException(
            "the runtime is shutting down; " + version.ref() + " is not loaded");
      }
      SessionHandle h = cache.getIfPresent(key);
      if (h != null && h.tryAcquire()) {
        return warm(h, policy, deadline);
      }
      SessionHandle live = open.get(key);
      if (live != null && live.tryAcquire()) {
        recache(key, live);
        return warm(live, policy, deadline);
      }
      CompletableFuture<SessionHandle> mine = new CompletableFuture<>();
      CompletableFuture<SessionHandle> f = loading.putIfAbsent(key, mine);
      if (f == null) {
        try {
          SessionHandle loaded = load(key, version, policy, deadline);
          loaded.tryAcquire(); // the caller's reference; the cache owns the first one
          // Cached before the load is no longer in flight, so a concurrent caller finds it in one
          // of the two places and never loads it a second time.
          cache.put(key, loaded);
          mine.complete(loaded);
          return loaded;
        } catch (RuntimeException | Error e) {
          mine.completeExceptionally(e);
          throw e;
        } finally {
          loading.remove(key, mine);
        }
      }
      try {
        h = f.join();
      } catch (CompletionException e) {
        if (e.getCause() instanceof MlopsException) {
          throw (MlopsException) e.getCause();
        }
        throw new ModelLoadException(
            "loading " + version.ref() + " failed: " + e.getCause(), e.getCause());
      }
      if (h.tryAcquire()) {
        return warm(h, policy, deadline);
      }
      // That handle closed in the meantime (evicted and released): look again.
    }
  }

  /** Puts an open handle that was evicted but is still in use back into the cache. */
  private void recache(Key key, SessionHandle h) {
    if (h.tryAcquire()) {
      if (cache.asMap().putIfAbsent(key, h) != null) {
        h.release();
      }
    }
  }

  /**
   * Runs what {@code policy} asks of a session that a laxer policy loaded; the caller holds a
   * reference, which it loses if the input example fails.
   */
  private SessionHandle warm(SessionHandle h, WarmUpPolicy policy, Duration deadline) {
    if (policy == WarmUpPolicy.NONE
        || (h.version.hasInputExample() ? h.exampleRan() : h.warmUpTried())) {
      return h;
    }
    try {
      synchronized (h) {
        warmUp(h, policy, deadline);
      }
      return h;
    } catch (RuntimeException e) {
      h.release();
      failed(h.version, e);
      throw e;
    }
  }

  /**
   * Runs the warm-up {@code policy} asks for and the session has not had: the input example (its
   * failure throws), or a best-effort synthetic run (its failure is reported). Caller holds the
   * handle's lock, or the handle is not published yet. A run past {@code deadline} throws {@link
   * dev.mlops.api.WarmUpTimeoutException}.
   */
  private void warmUp(SessionHandle h, WarmUpPolicy policy, Duration deadline) {
    if (policy == WarmUpPolicy.NONE) {
      return;
    }
    String what = h.version.ref().toString();
    Optional<Map<String, Tensor>> example = registry.inputExample(h.version);
    if (example.isPresent()) {
      if (!h.exampleRan()) {
        WarmUp.runExample(h.session, example.get(), deadline, what, DEADLINE_SETTING);
        h.warmedUp(true);
      }
    } else if (!h.warmUpTried()) {
      Optional<ModelLoadException> failure =
          WarmUp.run(h.session, example, policy, deadline, what, DEADLINE_SETTING);
      h.warmedUp(false);
      failure.ifPresent(e -> warmUpFailed(h.version, h.session, e));
    }
  }

  private void warmUpFailed(ModelVersion version, ModelSession session, ModelLoadException e) {
    String key = version.name() + "/" + version.version();
    if (warmUpWarned.size() > 10_000) {
      warmUpWarned.clear();
    }
    if (warmUpWarned.add(key)) {
      LOG.warn("{}", e.getMessage());
    } else {
      LOG.debug("{}", e.getMessage());
    }
    events.accept(
        new LifecycleEvent.WarmUpFailed(
            clock.instant(),
            version.name(),
            version.version(),
            SyntheticInputs.describe(session.signature()),
            e.getCause() != null ? e.getCause() : e));
  }

  private SessionHandle load(
      Key key, ModelVersion version, WarmUpPolicy policy, Duration deadline) {
    long start = ticker.getAsLong();
    ModelSession session = null;
    try {
      // The engine reads the registry's private, verified copy, deleted once the session is open.
      try (VerifiedArtifact artifact = registry.verifiedArtifact(version)) {
        session = engine.open(artifact.location(), key.options());
      } catch (MlopsException e) {
        throw e.getClass() == ModelLoadException.class
            ? new ModelLoadException("cannot load " + version.ref() + ": " + e.getMessage(), e)
            : e;
      }
      if (!session.signature().equals(version.signature())) {
        throw new ModelLoadException(
            version.ref()
                + " loaded with signature "
                + session.signature()
                + " but was registered with "
                + version.signature());
      }
      // Not published until warmed up: a failed warm-up closes the session itself, never the
      // handle.
      SessionHandle h =
          new SessionHandle(version, session, closed -> onClosed(key, closed), closer);
      warmUp(h, policy, deadline);
      opened.incrementAndGet();
      open.put(key, h);
      long nanos = ticker.getAsLong() - start;
      LOG.info("loaded {} in {} ms", version.ref(), nanos / 1_000_000);
      events.accept(
          new LifecycleEvent.ModelLoaded(
              clock.instant(), version.name(), version.version(), nanos));
      return h;
    } catch (RuntimeException e) {
      if (session != null) {
        session.close();
      }
      RuntimeException reported =
          e instanceof MlopsException
              ? e
              : new ModelLoadException("cannot load " + version.ref() + ": " + e, e);
      failed(version, reported);
      throw reported;
    }
  }

  /** Reports a load (or warm-up) failure: the log, the audit log, and the listeners. */
  private void failed(ModelVersion version, RuntimeException e) {
    LOG.warn("cannot load {}: {}", version.ref(), e.getMessage());
    LOG.debug("load failure of {}", version.ref(), e);
    if (e instanceof ModelLoadException) {
      try {
        registry.recordLoadFailure(version, e);
      } catch (RuntimeException auditFailure) {
        LOG.warn("cannot audit the load failure of {}: {}", version.ref(), auditFailure.toString());
      }
    }
    events.accept(
        new LifecycleEvent.ModelLoadFailed(clock.instant(), version.name(), version.version(), e));
  }

  private void onClosed(Key key, SessionHandle h) {
    open.remove(key, h);
    closed.incrementAndGet();
    LOG.debug("closed session of {}", h.version.ref());
    events.accept(
        new LifecycleEvent.ModelUnloaded(clock.instant(), h.version.name(), h.version.version()));
    synchronized (drainMonitor) {
      drainMonitor.notifyAll();
    }
  }

  /** Whether the version is loaded with these options and cached. */
  boolean isCached(ModelVersion version, SessionOptions options) {
    return cache.getIfPresent(Key.of(version, options)) != null;
  }

  /**
   * Drops the cache's references on a version, whatever its options; it closes once nothing else
   * uses it.
   */
  void evict(ModelVersion version) {
    cache.asMap().keySet().removeIf(k -> k.isOf(version));
  }

  /** Drops every cached reference. */
  void evictAll() {
    cache.invalidateAll();
  }

  /** Stops new loads, drops every cached reference and waits until every session is closed. */
  boolean shutdown(Duration timeout) {
    shutdown = true;
    evictAll();
    cache.cleanUp();
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
    return cache.policy().eviction().map(e -> e.weightedSize().orElse(0L)).orElse(0L);
  }

  /** Versions open now, cached or in use. */
  int openCount() {
    return open.size();
  }

  /** Every open session, by model and version, without touching the cache's recency order. */
  List<RuntimeState.LoadedVersion> loadedVersions() {
    List<RuntimeState.LoadedVersion> out = new ArrayList<>(open.size());
    open.forEach(
        (key, h) -> {
          int refs = h.references();
          if (refs > 0) {
            boolean cached = cache.policy().getIfPresentQuietly(key) == h;
            out.add(
                new RuntimeState.LoadedVersion(
                    key.model(), key.version(), key.options(), refs, cached));
          }
        });
    out.sort(
        Comparator.comparing(RuntimeState.LoadedVersion::model)
            .thenComparingLong(RuntimeState.LoadedVersion::version));
    return out;
  }

  /** The loads in flight, by model and version. */
  List<RuntimeState.Load> loadsInFlight() {
    List<RuntimeState.Load> out = new ArrayList<>(loading.size());
    for (Key key : loading.keySet()) {
      out.add(new RuntimeState.Load(key.model(), key.version(), key.options()));
    }
    out.sort(
        Comparator.comparing(RuntimeState.Load::model)
            .thenComparingLong(RuntimeState.Load::version));
    return out;
  }
}
