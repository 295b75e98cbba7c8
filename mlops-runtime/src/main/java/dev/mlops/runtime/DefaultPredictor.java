package dev.mlops.runtime;

import dev.mlops.api.WarmUpPolicy;
import dev.mlops.runtime.loading.InputValidator;
import dev.mlops.api.ClosedException;
import dev.mlops.api.Codec;
import dev.mlops.api.InvalidInputException;
import dev.mlops.api.MlopsException;
import dev.mlops.api.ModelRef;
import dev.mlops.api.ModelSignature;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Prediction;
import dev.mlops.api.PredictionException;
import dev.mlops.api.PredictionTimeoutException;
import dev.mlops.api.Predictor;
import dev.mlops.api.Tensor;
import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.api.spi.Outcome;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A predictor over the runtime's {@link SessionCache}. Holds one reference on the version it
 * serves; each call leases that version for the length of the call. Following an alias or
 * {@code latest}, it moves to the new version off the callers' threads as its {@link SwapMode}
 * says.
 */
final class DefaultPredictor<I, O> implements Predictor<I, O> {

  private static final Logger LOG = LoggerFactory.getLogger(DefaultPredictor.class);

  private final Mlops runtime;
  private final ModelRef target;
  private final Codec<I, O> codec;
  private final SwapMode swapMode;
  private final Duration gapTimeout;
  private final int keepWarm;
  private final AtomicReference<SessionHandle> current = new AtomicReference<>();
  /** The last resource-preserving swap's gap: not done while no version is serving. */
  private volatile CompletableFuture<Void> gap;
  /** Versions served before, newest first, kept loaded for rollback (guarded by swapLock). */
  private final Deque<SessionHandle> warm = new ArrayDeque<>();
  private final Object swapLock = new Object();
  private final AutoCloseable subscription;
  private final long maxInputElements;
  private final long maxRows;
  private final WarmUpPolicy warmUp;
  private final dev.mlops.api.SessionOptions sessionOptions;
  private final boolean allowEmpty;
  private final boolean acceptIncompatible;
  /** The version whose refusal was last reported, so that each refused version is reported once (guarded by swapLock). */
  private long refusedVersion;
  private final Batcher<I, O> batcher;
  /** The outputs the codec reads, for the signature they were computed for. */
  private volatile OutputSelection outputSelection;
  private final java.util.concurrent.atomic.AtomicBoolean refreshPending = new java.util.concurrent.atomic.AtomicBoolean();
  private volatile boolean closed;

  private static final class OutputSelection {
    final ModelSignature signature;
    final Set<String> names;
    /** The input whose first dimension is the batch dimension (the first with a dynamic one), -1 if none. */
    final int batchInput;

    OutputSelection(ModelSignature signature, Set<String> names) {
      this.signature = signature;
      this.names = names;
      int b = -1;
      for (int i = 0; i < signature.inputs().size(); i++) {
        dev.mlops.api.TensorSpec in = signature.inputs().get(i);
        if (in.rank() > 0 && in.dim(0) == dev.mlops.api.TensorSpec.DYNAMIC) {
          b = i;
          break;
        }
      }
      this.batchInput = b;
    }
  }

  DefaultPredictor(Mlops runtime, ModelRef target, Codec<I, O> codec, PredictorBuilder<I, O> options) {
    this.runtime = runtime;
    this.target = target;
    this.codec = codec;
    this.swapMode = options.swapMode;
    this.gapTimeout = options.swapGapTimeout;
    this.keepWarm = options.keepWarm;
    this.maxInputElements = options.maxInputElements;
    this.maxRows = options.maxRows;
    this.warmUp = options.warmUp;
    this.sessionOptions = options.sessionOptions;
    this.allowEmpty = options.allowEmptyTensors;
    this.acceptIncompatible = options.acceptIncompatibleVersions;
    ModelVersion version = runtime.registry().get(target);
    SessionHandle first = runtime.cache().acquire(version, sessionOptions, warmUp);
    current.set(first);
    try {
      this.batcher = options.batching == null ? null : new Batcher<>(this, codec, options.batching, version.signature());
    } catch (RuntimeException e) {
      current.set(null);
      first.release();
      throw e;
    }
    this.subscription =
        target.version().isPresent() ? () -> {} : runtime.registry().addListener(this::onRegistryEvent);
    if (target.version().isEmpty()) {
      // A move while the first version loaded came before the listener: catch up now rather
      // than serve the old version until the next move.
      try {
        Optional<ModelVersion> now = runtime.registry().find(target);
        if (now.isPresent() && now.get().version() != version.version()) {
          runtime.executor().execute(this::refresh);
        }
      } catch (RuntimeException e) {
        LOG.debug("cannot re-check {} after loading {}; the next registry event will", target, version.ref(), e);
      }
    }
  }

  Mlops runtime() {
    return runtime;
  }

  /** The signature of the version serving now (the last one, while a swap has none). */
  ModelSignature servingSignature() {
    SessionHandle h = current.get();
    if (h != null) {
      return h.version.signature();
    }
    OutputSelection o = outputSelection;
    if (o != null) {
      return o.signature;
    }
    throw closedException();
  }

  long servingNumber() {
    SessionHandle h = current.get();
    return h == null ? 0 : h.version.version();
  }

  SessionHandle leaseForBatch(long start) {
    return lease(start);
  }

  Set<String> outputsFor(ModelSignature signature) {
    return selection(signature).names;
  }

  private OutputSelection selection(ModelSignature signature) {
    OutputSelection o = outputSelection;
    if (o == null || o.signature != signature) {
      o = new OutputSelection(signature, Set.copyOf(codec.outputs(signature)));
      outputSelection = o;
    }
    return o;
  }

  /** Checks encoded inputs against the signature and this predictor's limits, before native memory is touched. */
  void validate(ModelSignature signature, Map<String, Tensor> inputs) {
    InputValidator.check(signature, inputs, allowEmpty);
    checkLimits(inputs);
  }

  /** Refuses a deadline that has passed before the call starts. */
  static void checkTimeout(Duration timeout) {
    if (timeout != null && (timeout.isZero() || timeout.isNegative())) {
      throw new IllegalArgumentException("timeout must be positive but was " + timeout
          + "; pass null (or call predict(input)) for no deadline");
    }
  }

  static <T> T checkInput(T input) {
    if (input == null) {
      throw new NullPointerException("input must not be null; pass the value to predict");
    }
    return input;
  }

  /** Input-size limits, checked before any native memory is allocated. */
  private void checkLimits(Map<String, Tensor> inputs) {
    long elements = 0;
    for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
      Tensor t = e.getValue();
      elements += t.elementCount();
      if (t.rank() > 0 && t.dim(0) > maxRows) {
        throw new InvalidInputException(e.getKey(), "at most " + maxRows + " rows per call (maxBatchRows)",
            t.dim(0) + " rows");
      }
    }
    if (elements > maxInputElements) {
      throw new InvalidInputException(inputs.keySet().iterator().next(),
          "at most " + maxInputElements + " input elements per call (maxInputElements)", elements + " elements");
    }
  }

  @Override
  public ModelRef target() {
    return target;
  }

  @Override
  public Optional<ModelVersion> servingVersion() {
    SessionHandle h = current.get();
    return h == null ? Optional.empty() : Optional.of(h.version);
  }

  @Override
  public Prediction<O> predict(I input) {
    return predict(input, null);
  }

  @Override
  public Prediction<O> predict(I input, Duration timeout) {
    checkInput(input);
    checkTimeout(timeout);
    if (batcher != null) {
      return batcher.call(input, timeout);
    }
    return predictDirect(input, timeout);
  }

  /** Runs one call on the caller's thread, without the batching queue. */
  Prediction<O> predictDirect(I input, Duration timeout) {
    long start = System.nanoTime();
    SessionHandle h = lease(start);
    Outcome outcome = Outcome.ERROR;
    int rows = 0;
    try {
      ModelSignature signature = h.version.signature();
      Map<String, Tensor> inputs = encode(h, input);
      rows = rows(signature, inputs);
      O value = run(h, signature, inputs, timeout);
      outcome = Outcome.SUCCESS;
      return new Prediction<>(value, target.name(), h.version.version(), System.nanoTime() - start);
    } catch (InvalidInputException e) {
      outcome = Outcome.INVALID_INPUT;
      throw e;
    } catch (PredictionTimeoutException e) {
      outcome = Outcome.TIMEOUT;
      throw e;
    } finally {
      h.release();
      runtime.recordPrediction(target.name(), h.version.version(), System.nanoTime() - start, rows, outcome);
    }
  }

  /** Rows of one call: the batch dimension of the signature's batch input, 1 for a model without one. */
  private int rows(ModelSignature signature, Map<String, Tensor> inputs) {
    int b = selection(signature).batchInput;
    return b < 0 ? 1 : (int) inputs.get(signature.inputs().get(b).name()).dim(0);
  }

  @Override
  public List<Prediction<O>> predictAll(List<? extends I> inputs) {
    java.util.Objects.requireNonNull(inputs, "inputs");
    for (int i = 0; i < inputs.size(); i++) {
      if (inputs.get(i) == null) {
        throw new NullPointerException("inputs[" + i + "] must not be null");
      }
    }
    List<Prediction<O>> out = new ArrayList<>(inputs.size());
    if (batcher != null) {
      List<CompletableFuture<Prediction<O>>> futures = new ArrayList<>(inputs.size());
      for (I input : inputs) {
        futures.add(batcher.submit(input, null));
      }
      for (CompletableFuture<Prediction<O>> f : futures) {
        out.add(Batcher.join(f));
      }
      return out;
    }
    SessionHandle h = lease(System.nanoTime());
    try {
      for (I input : inputs) {
        long start = System.nanoTime();
        Outcome outcome = Outcome.ERROR;
        try {
          O value = run(h, h.version.signature(), encode(h, input), null);
          outcome = Outcome.SUCCESS;
          out.add(new Prediction<>(value, target.name(), h.version.version(), System.nanoTime() - start));
        } catch (InvalidInputException e) {
          outcome = Outcome.INVALID_INPUT;
          throw e;
        } finally {
          runtime.recordPrediction(target.name(), h.version.version(), System.nanoTime() - start, 1, outcome);
        }
      }
      return out;
    } finally {
      h.release();
    }
  }

  @Override
  public CompletableFuture<Prediction<O>> predictAsync(I input) {
    checkInput(input);
    if (closed) {
      return CompletableFuture.failedFuture(closedException());
    }
    if (batcher != null) {
      return batcher.submit(input, null);
    }
    try {
      return CompletableFuture.supplyAsync(() -> predict(input), runtime.executor());
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // Close may shut the executor down after the check above; a caller's executor may be full.
      // Either way the contract is a failed future, not an exception thrown here.
      return CompletableFuture.failedFuture(closed ? closedException()
          : new dev.mlops.api.OverloadedException("the executor rejected an async call on " + target
              + ": " + e.getMessage() + "; give the runtime an executor with room, or call predict", e));
    }
  }

  private Map<String, Tensor> encode(SessionHandle h, I input) {
    ModelSignature signature = h.version.signature();
    Map<String, Tensor> inputs;
    try {
      inputs = codec.encode(input, signature);
    } catch (MlopsException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new PredictionException("encoding an input for " + h.version.ref() + " failed: " + e, e);
    }
    validate(signature, inputs);
    return inputs;
  }

  private O run(SessionHandle h, ModelSignature signature, Map<String, Tensor> inputs, Duration timeout) {
    try {
      Map<String, Tensor> outputs = h.session.run(inputs, outputsFor(signature), timeout);
      if (runtime.hasObservers()) {
        runtime.observe(h.version, inputs, outputs);
      }
      return codec.decode(outputs, signature);
    } catch (MlopsException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new PredictionException("prediction on " + h.version.ref() + " failed: " + e, e);
    }
  }

  /**
   * Takes a lease on the serving version. Retries if that version was swapped out and drained
   * meanwhile; waits (bounded) while a resource-preserving swap has no version serving.
   */
  private SessionHandle lease(long start) {
    for (;;) {
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
        runtime.recordPrediction(target.name(), 0, System.nanoTime() - start, 1, Outcome.ERROR);
        throw new PredictionException("no version of " + target + " is loaded: the last swap could load neither"
            + " the new version nor the old one; the next alias move will try again");
      }
      {
        long left = gapTimeout.toNanos() - (System.nanoTime() - start);
        try {
          g.get(Math.max(0, left), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
          runtime.recordPrediction(target.name(), 0, System.nanoTime() - start, 1, Outcome.TIMEOUT);
          throw new PredictionTimeoutException("no version of " + target + " was serving within " + gapTimeout
              + " while a resource-preserving swap was loading the next one");
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new PredictionException("interrupted while waiting for " + target + " to finish swapping", e);
        } catch (ExecutionException e) {
          // The gap future never fails; a failed swap reloads the old version.
        }
      }
    }
  }

  /** The failure of a call on this predictor after {@link #close()}. */
  ClosedException closedException() {
    return new ClosedException("the predictor for " + target + " is closed");
  }

  private void onRegistryEvent(LifecycleEvent event) {
    if (!event.model().equals(target.name()) || closed) {
      return;
    }
    boolean relevant;
    if (target.alias().isPresent()) {
      String alias = target.alias().get();
      relevant =
          (event instanceof LifecycleEvent.AliasMoved && ((LifecycleEvent.AliasMoved) event).alias().equals(alias))
              || (event instanceof LifecycleEvent.AliasDeleted
                  && ((LifecycleEvent.AliasDeleted) event).alias().equals(alias));
    } else {
      relevant =
          event instanceof LifecycleEvent.VersionRegistered
              || event instanceof LifecycleEvent.VersionArchived
              || event instanceof LifecycleEvent.VersionDeleted;
    }
    // One pending refresh is enough: it resolves the registry's state when it runs, so a burst
    // of moves costs one swap to the final target, not one queued task per move.
    if (relevant && refreshPending.compareAndSet(false, true)) {
      try {
        runtime.executor().execute(() -> {
          refreshPending.set(false);
          refresh();
        });
      } catch (java.util.concurrent.RejectedExecutionException e) {
        refreshPending.set(false);
        LOG.debug("runtime is shutting down; not refreshing {}", target);
      }
    }
  }

  /**
   * Resolves the target again and moves to its version if it changed. Swaps of one predictor are
   * serialised and each resolves the registry's current state, so out-of-order events cannot
   * leave it on a stale version. If the new version cannot load, the old one keeps serving.
   */
  void refresh() {
    synchronized (swapLock) {
      if (closed) {
        return;
      }
      Optional<ModelVersion> next;
      try {
        next = runtime.registry().find(target);
      } catch (MlopsException e) {
        LOG.warn("cannot resolve {}; {} keeps serving: {}", target, describe(current.get()), e.getMessage());
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
            old.version.signature().incompatibilities(next.get().signature(), outputsFor(old.version.signature()));
        if (!differences.isEmpty()) {
          refuseSwap(old.version, next.get(), differences);
          return;
        }
      }
      SessionHandle fresh =
          swapMode == SwapMode.AVAILABILITY_PRESERVING ? swapKeepingOld(old, next.get()) : swapUnloadingFirst(old, next.get());
      if (fresh == null) {
        return;
      }
      refusedVersion = 0;
      LOG.info("{} switched from {} to {}", target, describe(old), fresh.version.ref());
      runtime.publish(new LifecycleEvent.VersionSwapped(runtime.clock().instant(), target.name(), target.toString(),
          old == null ? 0 : old.version.version(), fresh.version.version()));
    }
  }

  /** Keeps serving {@code serving} instead of an incompatible version, and says so once per refused version. */
  private void refuseSwap(ModelVersion serving, ModelVersion refused, List<String> differences) {
    if (refusedVersion == refused.version()) {
      return;
    }
    refusedVersion = refused.version();
    LOG.warn("{} keeps serving {} instead of switching to {}, whose signature is incompatible: {}; move the reference"
            + " to a compatible version, or build the predictor with acceptIncompatibleVersions()",
        target, serving.ref(), refused.ref(), String.join("; ", differences));
    runtime.publish(new LifecycleEvent.SwapRefused(runtime.clock().instant(), target.name(), target.toString(),
        serving.version(), refused.version(), differences));
    try {
      runtime.registry().recordSwapRefused(refused, serving.version(), target, differences);
    } catch (RuntimeException e) {
      LOG.warn("cannot audit the refused swap of {} to {}: {}", target, refused.ref(), e.toString());
    }
  }

  private SessionHandle swapKeepingOld(SessionHandle old, ModelVersion next) {
    SessionHandle fresh;
    try {
      fresh = takeWarm(next).orElseGet(() -> runtime.cache().acquire(next, sessionOptions, warmUp));
    } catch (MlopsException e) {
      LOG.warn("{} cannot switch to {}; {} keeps serving: {}", target, next.ref(), describe(old), e.getMessage());
      return null;
    }
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
        // Drop every reference this predictor and the cache hold, then let the calls in flight
        // drain so that the old session's memory is free before the new one is loaded.
        old.release();
        runtime.cache().evict(old.version);
        try {
          old.closedFuture().get(gapTimeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
          LOG.warn("{} is still in use after {}; loading {} anyway", old.version.ref(), gapTimeout, next.ref());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
          // never fails
        }
      }
      SessionHandle fresh;
      try {
        fresh = runtime.cache().acquire(next, sessionOptions, warmUp);
      } catch (MlopsException e) {
        LOG.warn("{} cannot switch to {}; reloading {}: {}", target, next.ref(), describe(old), e.getMessage());
        if (old != null) {
          try {
            current.set(runtime.cache().acquire(old.version, sessionOptions, warmUp));
          } catch (MlopsException again) {
            LOG.error("{} cannot reload {} either; calls will fail until the next swap", target, old.version.ref(), again);
          }
        }
        return null;
      }
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

  @Override
  public void close() {
    synchronized (swapLock) {
      if (closed) {
        return;
      }
      closed = true;
      if (batcher != null) {
        batcher.close();
      }
      try {
        subscription.close();
      } catch (Exception e) {
        LOG.debug("removing the registry listener failed", e);
      }
      SessionHandle h = current.getAndSet(null);
      if (h != null) {
        h.release();
      }
      while (!warm.isEmpty()) {
        warm.removeFirst().release();
      }
    }
    runtime.forget(this);
  }

  @Override
  public String toString() {
    return "Predictor[" + target + " -> " + servingVersion().map(v -> "v" + v.version()).orElse("none") + ", " + codec + "]";
  }
}
