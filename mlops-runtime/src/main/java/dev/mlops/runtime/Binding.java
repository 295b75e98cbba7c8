package dev.mlops.runtime;

import dev.mlops.api.ClosedException;
import dev.mlops.api.MlopsException;
import dev.mlops.api.ModelRef;
import dev.mlops.api.ModelSignature;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.PredictionException;
import dev.mlops.api.PredictionTimeoutException;
import dev.mlops.api.Rollout;
import dev.mlops.api.SessionOptions;
import dev.mlops.api.WarmUpPolicy;
import dev.mlops.api.event.LifecycleEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows one reference for one predictor: holds one reference on the version it serves (and on up
 * to {@code keepWarm} earlier ones), hands out a lease on it per call, and when the registry moves
 * the reference, moves to the new version on the runtime's swap executor as its {@link SwapMode}
 * says, or refuses a version whose signature is incompatible.
 *
 * <p>It runs nothing on a session; the {@link CallPipeline} does, on the leases this hands out.
 * Refreshes are coalesced: at most one is pending per binding, and each resolves the registry's
 * state when it runs, so a burst of moves costs one swap to the final target. Thread-safe.
 */
final class Binding {

  private static final Logger LOG = LoggerFactory.getLogger(Binding.class);

  private final Mlops runtime;
  private final ModelRef target;
  private final SwapMode swapMode;
  private final Duration gapTimeout;
  private final int keepWarm;
  private final WarmUpPolicy warmUp;
  private final java.time.Duration warmUpDeadline;
  private final SessionOptions sessionOptions;
  private final boolean acceptIncompatible;

  /** The outputs the predictor's codec reads from a version with a given signature. */
  private final Function<ModelSignature, ? extends Collection<String>> outputsRead;

  /** The version serving now; null while a resource-preserving swap has none, and after close. */
  private final AtomicReference<SessionHandle> current = new AtomicReference<>();

  /** The version served last, for the signature batched requests are encoded for during a gap. */
  private volatile ModelVersion last;

  /** The last resource-preserving swap's gap: not done while no version is serving. */
  private volatile CompletableFuture<Void> gap;

  /**
   * Versions served before, newest first, kept loaded for rollback. Changed under swapLock; read
   * without it by warmVersions(), so that a state snapshot (a health check) never waits for a
   * swap's load.
   */
  private final Deque<SessionHandle> warm = new java.util.concurrent.ConcurrentLinkedDeque<>();

  private final Object swapLock = new Object();

  /**
   * The version whose refusal was last reported, so that each refused version is reported once
   * (guarded by swapLock).
   */
  private long refusedVersion;

  private final AtomicBoolean refreshPending = new AtomicBoolean();
  private volatile AutoCloseable subscription = () -> {};
  private volatile AutoCloseable resyncSubscription = () -> {};
  private volatile Route route;
  private volatile boolean closed;

  /**
   * Resolves the target and loads its version.
   *
   * @throws dev.mlops.api.ModelNotFoundException if the target resolves to nothing
   * @throws dev.mlops.api.ModelLoadException if the version cannot be loaded
   */
  Binding(
      Mlops runtime,
      ModelRef target,
      PredictorBuilder<?, ?> options,
      Function<ModelSignature, ? extends Collection<String>> outputsRead) {
    this.runtime = runtime;
    this.target = target;
    this.swapMode = options.swapMode;
    this.gapTimeout = options.swapGapTimeout;
    this.keepWarm = options.keepWarm;
    this.warmUp = options.warmUp;
    this.warmUpDeadline = options.warmUpDeadline;
    this.sessionOptions = options.sessionOptions;
    this.acceptIncompatible = options.acceptIncompatibleVersions;
    this.outputsRead = outputsRead;
    ModelVersion version = runtime.registry().get(target);
    SessionHandle first = runtime.cache().acquire(version, sessionOptions, warmUp, warmUpDeadline);
    last = version;
    current.set(first);
  }

  /**
   * Starts following the target: subscribes to the registry's events unless the target pins a
   * version, and catches up with a move made while the first version loaded.
   */
  void follow() {
    if (target.version().isPresent()) {
      return;
    }
    subscription = runtime.registry().addListener(this::onRegistryEvent);
    // After a lost connection to a shared registry, moves may have been missed: re-resolve.
    resyncSubscription = runtime.registry().addResyncListener(this::scheduleRefresh);
    // A rollout already in force: route to its candidate from the first call.
    try {
      synchronized (swapLock) {
        refreshRoute();
      }
    } catch (RuntimeException e) {
      LOG.warn("cannot follow the rollout behind {}: {}", target, e.toString());
    }
    // A move while the first version loaded came before the listener: catch up now rather than
    // serve the old version until the next move.
    try {
      Optional<ModelVersion> now = runtime.registry().find(target);
      if (now.isPresent() && now.get().version() != servingNumber()) {
        scheduleRefresh();
      }
    } catch (RuntimeException e) {
      LOG.debug(
          "cannot re-check {} after loading {}; the next registry event will",
          target,
          describe(current.get()),
          e);
    }
  }

  ModelRef target() {
    return target;
  }

  SwapMode swapMode() {
    return swapMode;
  }

  Optional<ModelVersion> servingVersion() {
    SessionHandle h = current.get();
    return h == null ? Optional.empty() : Optional.of(h.version);
  }

  /** The version serving now, 0 if none. */
  long servingNumber() {
    SessionHandle h = current.get();
    return h == null ? 0 : h.version.version();
  }

  /**
   * The version serving now, or the last one while a swap has none.
   *
   * @throws ClosedException if the binding is closed
   */
  ModelVersion servingOrLast() {
    SessionHandle h = current.get();
    if (h != null) {
      return h.version;
    }
    if (closed) {
      throw closedException();
    }
    return last;
  }

  /** Versions kept warm for rollback, newest first. */
  List<Long> warmVersions() {
    List<Long> out = new ArrayList<>();
    for (SessionHandle h : warm) {
      out.add(h.version.version());
    }
    return out;
  }

  /**
   * Takes a lease on the serving version; the caller releases it. Retries if that version was
   * swapped out and drained meanwhile; waits while a resource-preserving swap has no version
   * serving, up to the swap-gap timeout or the call's deadline, whichever comes first.
   *
   * @param start the call's start, by the runtime's ticker
   * @param deadline the call's deadline by the ticker, {@link CallPipeline#NO_DEADLINE} for none
   * @throws ClosedException if the binding is closed
   * @throws PredictionTimeoutException if no version serves in time
   * @throws PredictionException if the last swap could load no version
   */
  SessionHandle lease(long start, long deadline) {
    for (; ; ) {
      SessionHandle h = current.get();
      if (h != null) {
        if (h.tryAcquire()) {
          return h;
        }
        Thread.onSpinWait();
        continue;
      }
      if (closed) {
        throw closedException();
      }
      CompletableFuture<Void> g = gap;
      if (g == null || g.isDone()) {
        // A finished swap sets the version before it completes the gap, so a second look is final.
        if (current.get() != null || closed) {
          continue;
        }
        throw new PredictionException(
            "no version of "
                + target
                + " is loaded: the last swap could load neither"
                + " the new version nor the old one; the next alias move will try again");
      }
      long gapEnd = CallPipeline.deadline(start, gapTimeout);
      long until = Math.min(gapEnd, deadline);
      long left = until - runtime.ticker().getAsLong();
      try {
        // Bounded in real time by what the ticker says is left, so a ticker that stands still
        // cannot make a call wait longer than its limit.
        g.get(Math.max(0, left), TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        throw new PredictionTimeoutException(
            until == gapEnd
                ? "no version of "
                    + target
                    + " was serving within "
                    + gapTimeout
                    + " while a resource-preserving swap was loading the next one"
                : "the call's deadline passed while a resource-preserving swap of "
                    + target
                    + " was loading the next version");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new PredictionException(
            "interrupted while waiting for " + target + " to finish swapping", e);
      } catch (ExecutionException e) {
        // The gap future never fails; a failed swap reloads the old version.
      }
    }
  }

  /** The failure of a call after {@link #close()}. */
  ClosedException closedException() {
    return new ClosedException("the predictor for " + target + " is closed");
  }

  boolean isClosed() {
    return closed;
  }

  private void onRegistryEvent(LifecycleEvent event) {
    if (!event.model().equals(target.name()) || closed) {
      return;
    }
    boolean relevant;
    if (target.alias().isPresent()) {
      String alias = target.alias().get();
      if (event instanceof LifecycleEvent.RolloutChanged c
          && c.rollout().alias().equals(alias)
          && !c.rollout().active()) {
        // An ended rollout stops routing at once, never after a staggered swap's delay: a rolled
        // back candidate must not keep its share of the calls.
        dropEndedRoute();
      }
      relevant =
          (event instanceof LifecycleEvent.AliasMoved m && m.alias().equals(alias))
              || (event instanceof LifecycleEvent.AliasDeleted d && d.alias().equals(alias))
              || (event instanceof LifecycleEvent.RolloutChanged c
                  && c.rollout().alias().equals(alias));
    } else {
      relevant =
          event instanceof LifecycleEvent.VersionRegistered
              || event instanceof LifecycleEvent.VersionArchived
              || event instanceof LifecycleEvent.VersionDeleted;
    }
    if (relevant) {
      scheduleRefresh();
    }
  }

  /**
   * Schedules a refresh on the swap executor unless one is pending. One pending refresh is enough:
   * it resolves the registry's state when it runs.
   */
  void scheduleRefresh() {
    if (!refreshPending.compareAndSet(false, true)) {
      return;
    }
    long delay = runtime.swapDelay().toNanos();
    Executor executor =
        delay == 0
            ? runtime.swapExecutor()
            : CompletableFuture.delayedExecutor(
                delay, TimeUnit.NANOSECONDS, runtime.swapExecutor());
    try {
      executor.execute(
          () -> {
            refreshPending.set(false);
            refresh();
          });
    } catch (RejectedExecutionException e) {
      refreshPending.set(false);
      LOG.debug(
          "the swap executor refused a refresh of {} (the runtime is shutting down?)", target);
    }
  }

  /**
   * Resolves the target again and moves to its version if it changed. Swaps of one binding are
   * serialised and each resolves the registry's current state, so out-of-order events cannot leave
   * it on a stale version. If the new version cannot load, the old one keeps serving.
   */
  void refresh() {
    synchronized (swapLock) {
      if (closed) {
        return;
      }
      refreshStable();
      refreshRoute();
    }
  }

  /** Moves to the target's version if it changed (under swapLock). */
  private void refreshStable() {
    Optional<ModelVersion> next;
    try {
      next = runtime.registry().find(target);
    } catch (MlopsException e) {
      LOG.warn(
          "cannot resolve {}; {} keeps serving: {}",
          target,
          describe(current.get()),
          e.getMessage());
      return;
    }
    SessionHandle old = current.get();
    if (next.isEmpty()) {
      LOG.warn("{} no longer resolves; {} keeps serving", target, describe(old));
      return;
    }
    if (old != null && old.version.version() == next.get().version()) {
      return;
    }
    if (old != null && !acceptIncompatible) {
      List<String> differences =
          old.version
              .signature()
              .incompatibilities(
                  next.get().signature(), outputsRead.apply(old.version.signature()));
      if (!differences.isEmpty()) {
        refuseSwap(old.version, next.get(), differences);
        return;
      }
    }
    SessionHandle fresh =
        swapMode == SwapMode.AVAILABILITY_PRESERVING
            ? swapKeepingOld(old, next.get())
            : swapUnloadingFirst(old, next.get());
    if (fresh == null) {
      return;
    }
    refusedVersion = 0;
    LOG.info("{} switched from {} to {}", target, describe(old), fresh.version.ref());
    runtime
        .telemetry()
        .publish(
            new LifecycleEvent.VersionSwapped(
                runtime.clock().instant(),
                target.name(),
                target.toString(),
                old == null ? 0 : old.version.version(),
                fresh.version.version()));
  }

  // ---------------------------------------------------------------- rollout routing

  /**
   * The candidate arm of the rollout in force behind the target's alias: its lease and the weight.
   * Immutable; replaced whole when the rollout changes.
   */
  static final class Route {
    final Rollout rollout;
    final SessionHandle candidate;
    private final long salt;
    private final long shadowSalt;
    private final boolean analysed;
    private final java.util.concurrent.atomic.AtomicReference<RolloutWindow> stableWindow =
        new java.util.concurrent.atomic.AtomicReference<>(new RolloutWindow());
    private final java.util.concurrent.atomic.AtomicReference<RolloutWindow> candidateWindow =
        new java.util.concurrent.atomic.AtomicReference<>(new RolloutWindow());

    Route(Rollout rollout, SessionHandle candidate) {
      this.rollout = rollout;
      this.candidate = candidate;
      this.salt = fnv(rollout.id(), 0xcbf29ce484222325L);
      // Its own salt: which stable calls are mirrored does not depend on which went to the
      // candidate.
      this.shadowSalt = fnv("shadow/" + rollout.id(), 0xcbf29ce484222325L);
      this.analysed = rollout.plan().analysis().isPresent();
    }

    /** Whether calls are counted for the rollout's analysis. */
    boolean analysed() {
      return analysed;
    }

    /** Counts one call of an arm for the analysis. */
    void record(boolean candidateArm, dev.mlops.api.spi.Outcome outcome, long nanos) {
      (candidateArm ? candidateWindow : stableWindow).get().record(outcome, nanos);
    }

    /** What the arm's current window has counted so far, without taking it. */
    long counted(boolean candidateArm) {
      return RolloutWindow.Counts.empty()
          .plus((candidateArm ? candidateWindow : stableWindow).get())
          .calls();
    }

    /** Takes the arm's window, and starts a new one. */
    RolloutWindow drain(boolean candidateArm) {
      return (candidateArm ? candidateWindow : stableWindow).getAndSet(new RolloutWindow());
    }

    /**
     * Whether a call goes to the candidate: by its key's bucket when it has one (the same key, the
     * same arm, while the rollout is unchanged; a growing weight moves keys only towards the
     * candidate), else at random by weight.
     */
    boolean takes(String key) {
      int weight = rollout.weight();
      if (weight <= 0) {
        return false;
      }
      if (weight >= Rollout.FULL) {
        return true;
      }
      int bucket =
          key.isEmpty()
              ? java.util.concurrent.ThreadLocalRandom.current().nextInt(Rollout.FULL)
              : bucket(key);
      return bucket < weight;
    }

    /**
     * Whether a call the stable arm answers is also run on the candidate as a shadow: by its key's
     * bucket (with a salt of its own) when it has one, else at random by the shadow share.
     */
    boolean mirrors(String key) {
      int shadow = rollout.shadow();
      if (shadow <= 0) {
        return false;
      }
      if (shadow >= Rollout.FULL) {
        return true;
      }
      int bucket =
          key.isEmpty()
              ? java.util.concurrent.ThreadLocalRandom.current().nextInt(Rollout.FULL)
              : mix(fnv(key, shadowSalt));
      return bucket < shadow;
    }

    /** The key's bucket, 0 to 9,999: FNV-1a of the key salted by the rollout id, then mixed. */
    int bucket(String key) {
      return mix(fnv(key, salt));
    }

    private static int mix(long h) {
      h ^= h >>> 33;
      h *= 0xff51afd7ed558ccdL;
      h ^= h >>> 33;
      h *= 0xc4ceb9fe1a85ec53L;
      h ^= h >>> 33;
      return (int) Long.remainderUnsigned(h, Rollout.FULL);
    }

    private static long fnv(String s, long h) {
      for (int i = 0; i < s.length(); i++) {
        h ^= s.charAt(i);
        h *= 0x100000001b3L;
      }
      return h;
    }
  }

  /** The route of the rollout in force, or null: read once per call. */
  Route route() {
    return route;
  }

  /**
   * Leases the candidate of {@code r} for one call, or returns null when that route was replaced
   * meanwhile (the caller then takes the stable arm).
   */
  SessionHandle leaseCandidate(Route r) {
    return r.candidate.tryAcquire() ? r.candidate : null;
  }

  /**
   * Follows the rollout behind the target's alias (under swapLock): loads the candidate when one is
   * in force against the version this binding serves, drops it when none is.
   */
  private void refreshRoute() {
    if (target.alias().isEmpty()) {
      return;
    }
    Route old = route;
    Optional<Rollout> rollout;
    try {
      rollout = runtime.registry().activeRollout(target.name(), target.alias().get());
    } catch (MlopsException e) {
      LOG.warn(
          "cannot read the rollout behind {}; routing stays as it was: {}", target, e.getMessage());
      return;
    }
    SessionHandle serving = current.get();
    Rollout r = rollout.orElse(null);
    if (r == null || serving == null || serving.version.version() != r.stable()) {
      dropRoute(
          old, r == null ? "no rollout is active" : "the rollout's stable version is not served");
      return;
    }
    if (old != null && old.rollout.candidate() == r.candidate()) {
      route = new Route(r, old.candidate); // same candidate: a new weight or state
      return;
    }
    ModelVersion candidate;
    SessionHandle fresh;
    try {
      candidate =
          runtime.registry().get(dev.mlops.api.ModelRef.version(target.name(), r.candidate()));
      if (!acceptIncompatible) {
        List<String> differences =
            serving
                .version
                .signature()
                .incompatibilities(
                    candidate.signature(), outputsRead.apply(serving.version.signature()));
        if (!differences.isEmpty()) {
          LOG.warn(
              "{} does not route to rollout {}'s candidate {}, whose signature is incompatible: {}",
              target,
              r.id(),
              candidate.ref(),
              String.join("; ", differences));
          dropRoute(old, "incompatible candidate");
          return;
        }
      }
      fresh = runtime.cache().acquire(candidate, sessionOptions, warmUp, warmUpDeadline);
    } catch (MlopsException e) {
      LOG.warn(
          "{} cannot load rollout {}'s candidate, version {}; every call stays on {}: {}",
          target,
          r.id(),
          r.candidate(),
          describe(serving),
          e.getMessage());
      dropRoute(old, "candidate failed to load");
      return;
    }
    route = new Route(r, fresh);
    if (old != null) {
      old.candidate.release();
    }
    LOG.info(
        "{} routes {} % of its calls to rollout {}'s candidate {}",
        target, r.weightPercent(), r.id(), candidate.ref());
  }

  /** Stops routing to a candidate whose rollout ended, on the swap executor without delay. */
  private void dropEndedRoute() {
    try {
      runtime
          .swapExecutor()
          .execute(
              () -> {
                synchronized (swapLock) {
                  if (!closed) {
                    refreshRoute();
                  }
                }
              });
    } catch (RejectedExecutionException e) {
      LOG.debug("the swap executor refused a route refresh of {}", target);
    }
  }

  private void dropRoute(Route old, String why) {
    if (old == null) {
      return;
    }
    route = null;
    old.candidate.release();
    LOG.info("{} stops routing to rollout {}'s candidate: {}", target, old.rollout.id(), why);
  }

  /**
   * Keeps serving {@code serving} instead of an incompatible version, and says so once per refused
   * version.
   */
  private void refuseSwap(ModelVersion serving, ModelVersion refused, List<String> differences) {
    if (refusedVersion == refused.version()) {
      return;
    }
    refusedVersion = refused.version();
    LOG.warn(
        "{} keeps serving {} instead of switching to {}, whose signature is incompatible: {}; move the reference"
            + " to a compatible version, or build the predictor with acceptIncompatibleVersions()",
        target,
        serving.ref(),
        refused.ref(),
        String.join("; ", differences));
    // Audited before the event, so that whoever the event wakes finds the entry.
    try {
      runtime.registry().recordSwapRefused(refused, serving.version(), target, differences);
    } catch (RuntimeException e) {
      LOG.warn(
          "cannot audit the refused swap of {} to {}: {}", target, refused.ref(), e.toString());
    }
    runtime
        .telemetry()
        .publish(
            new LifecycleEvent.SwapRefused(
                runtime.clock().instant(),
                target.name(),
                target.toString(),
                serving.version(),
                refused.version(),
                differences));
  }

  private SessionHandle swapKeepingOld(SessionHandle old, ModelVersion next) {
    SessionHandle fresh;
    try {
      fresh =
          takeWarm(next)
              .orElseGet(
                  () -> runtime.cache().acquire(next, sessionOptions, warmUp, warmUpDeadline));
    } catch (MlopsException e) {
      LOG.warn(
          "{} cannot switch to {}; {} keeps serving: {}",
          target,
          next.ref(),
          describe(old),
          e.getMessage());
      return null;
    }
    last = fresh.version;
    current.set(fresh);
    retire(old);
    return fresh;
  }

  private SessionHandle swapUnloadingFirst(SessionHandle old, ModelVersion next) {
    CompletableFuture<Void> g = new CompletableFuture<>();
    gap = g;
    current.set(null);
    try {
      if (old != null) {
        // Drop every reference this binding and the cache hold, then let the calls in flight
        // drain so that the old session's memory is free before the new one is loaded.
        old.release();
        runtime.cache().evict(old.version);
        try {
          old.closedFuture().get(gapTimeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
          LOG.warn(
              "{} is still in use after {}; loading {} anyway",
              old.version.ref(),
              gapTimeout,
              next.ref());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
          // never fails
        }
      }
      SessionHandle fresh;
      try {
        fresh = runtime.cache().acquire(next, sessionOptions, warmUp, warmUpDeadline);
      } catch (MlopsException e) {
        LOG.warn(
            "{} cannot switch to {}; reloading {}: {}",
            target,
            next.ref(),
            describe(old),
            e.getMessage());
        if (old != null) {
          try {
            current.set(
                runtime.cache().acquire(old.version, sessionOptions, warmUp, warmUpDeadline));
          } catch (MlopsException again) {
            LOG.error(
                "{} cannot reload {} either; calls will fail until the next swap",
                target,
                old.version.ref(),
                again);
          }
        }
        return null;
      }
      last = fresh.version;
      current.set(fresh);
      return fresh;
    } finally {
      g.complete(null);
    }
  }

  /** Keeps {@code old} loaded among the last {@code keepWarm} versions, or releases it. */
  private void retire(SessionHandle old) {
    if (old == null) {
      return;
    }
    if (keepWarm == 0) {
      old.release();
      return;
    }
    warm.addFirst(old);
    while (warm.size() > keepWarm) {
      warm.removeLast().release();
    }
  }

  private Optional<SessionHandle> takeWarm(ModelVersion next) {
    for (SessionHandle h : warm) {
      if (h.version.version() == next.version()) {
        warm.remove(h);
        return Optional.of(h);
      }
    }
    return Optional.empty();
  }

  private static String describe(SessionHandle h) {
    return h == null ? "nothing" : h.version.ref().toString();
  }

  /**
   * Stops following the target and drops this binding's references; calls in flight keep their
   * leases. Idempotent.
   *
   * @return whether this call closed it (false if it was closed already)
   */
  boolean close() {
    synchronized (swapLock) {
      if (closed) {
        return false;
      }
      closed = true;
      try {
        subscription.close();
        resyncSubscription.close();
      } catch (Exception e) {
        LOG.debug("removing the registry listener failed", e);
      }
      SessionHandle h = current.getAndSet(null);
      if (h != null) {
        h.release();
      }
      Route r = route;
      route = null;
      if (r != null) {
        r.candidate.release();
      }
      while (!warm.isEmpty()) {
        warm.removeFirst().release();
      }
      return true;
    }
  }
}
