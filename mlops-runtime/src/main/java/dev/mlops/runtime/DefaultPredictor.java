package dev.mlops.runtime;

import dev.mlops.api.ClosedException;
import dev.mlops.api.Codec;
import dev.mlops.api.InvalidInputException;
import dev.mlops.api.MlopsException;
import dev.mlops.api.ModelRef;
import dev.mlops.api.ModelSignature;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Prediction;
import dev.mlops.api.PredictionException;
import dev.mlops.api.Predictor;
import dev.mlops.api.Tensor;
import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.api.spi.Outcome;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A predictor over a {@link SessionCache}. Holds one reference on the version it serves; each
 * call leases that version for the length of the call. Following an alias or {@code latest}, it
 * loads the new version off the caller's threads and switches with one atomic write; calls
 * already running finish on the old version, which closes when the last of them returns.
 */
final class DefaultPredictor<I, O> implements Predictor<I, O> {

  private static final Logger LOG = LoggerFactory.getLogger(DefaultPredictor.class);

  private final Mlops runtime;
  private final ModelRef target;
  private final Codec<I, O> codec;
  private final AtomicReference<SessionHandle> current = new AtomicReference<>();
  private final Object swapLock = new Object();
  private final AutoCloseable subscription;
  private volatile boolean closed;

  DefaultPredictor(Mlops runtime, ModelRef target, Codec<I, O> codec) {
    this.runtime = runtime;
    this.target = target;
    this.codec = codec;
    ModelVersion version = runtime.registryInternal().get(target);
    current.set(runtime.cache().acquire(version));
    this.subscription =
        target.version().isPresent() ? () -> {} : runtime.registryInternal().addListener(this::onRegistryEvent);
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
    long start = System.nanoTime();
    SessionHandle h = lease();
    Outcome outcome = Outcome.ERROR;
    try {
      O value = run(h, input);
      outcome = Outcome.SUCCESS;
      return new Prediction<>(value, target.name(), h.version.version(), System.nanoTime() - start);
    } catch (InvalidInputException e) {
      outcome = Outcome.INVALID_INPUT;
      throw e;
    } finally {
      h.release();
      runtime.recordPrediction(target.name(), h.version.version(), System.nanoTime() - start, 1, outcome);
    }
  }

  @Override
  public List<Prediction<O>> predictAll(List<? extends I> inputs) {
    List<Prediction<O>> out = new ArrayList<>(inputs.size());
    SessionHandle h = lease();
    try {
      for (I input : inputs) {
        long start = System.nanoTime();
        Outcome outcome = Outcome.ERROR;
        try {
          O value = run(h, input);
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
    if (closed) {
      return CompletableFuture.failedFuture(closedException());
    }
    return CompletableFuture.supplyAsync(() -> predict(input), runtime.executor());
  }

  private O run(SessionHandle h, I input) {
    ModelSignature signature = h.version.signature();
    try {
      Map<String, Tensor> inputs = codec.encode(input, signature);
      InputValidator.check(signature, inputs);
      Map<String, Tensor> outputs = h.session.run(inputs);
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

  /** Takes a lease on the serving version; retries if it was swapped out and drained meanwhile. */
  private SessionHandle lease() {
    for (;;) {
      SessionHandle h = current.get();
      if (h == null) {
        throw closedException();
      }
      if (h.tryAcquire()) {
        return h;
      }
      Thread.onSpinWait();
    }
  }

  private ClosedException closedException() {
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
    if (relevant) {
      runtime.executor().execute(this::refresh);
    }
  }

  /**
   * Resolves the target again and switches to its version if it changed. The new version is
   * loaded and warmed up before the switch; if it cannot load, the old version keeps serving.
   * Swaps of one predictor are serialised, and each resolves the registry's current state, so
   * out-of-order events cannot leave it on a stale version.
   */
  void refresh() {
    synchronized (swapLock) {
      if (closed) {
        return;
      }
      Optional<ModelVersion> next;
      try {
        next = runtime.registryInternal().find(target);
      } catch (MlopsException e) {
        LOG.warn("cannot resolve {}; {} keeps serving: {}", target, servingVersion().map(ModelVersion::ref), e.getMessage());
        return;
      }
      SessionHandle old = current.get();
      if (next.isEmpty()) {
        LOG.warn("{} no longer resolves; keeping {} in service", target, old == null ? "nothing" : old.version.ref());
        return;
      }
      if (old != null && old.version.version() == next.get().version()) {
        return;
      }
      SessionHandle fresh;
      try {
        fresh = runtime.cache().acquire(next.get());
      } catch (MlopsException e) {
        LOG.warn("{} cannot switch to {}; {} keeps serving: {}", target, next.get().ref(),
            old == null ? "nothing" : old.version.ref(), e.getMessage());
        return;
      }
      current.set(fresh);
      if (old != null) {
        old.release();
      }
      LOG.info("{} switched from {} to {}", target, old == null ? "nothing" : old.version.ref(), fresh.version.ref());
      runtime.publish(new LifecycleEvent.VersionSwapped(
          runtime.clock().instant(), target.name(), target.toString(),
          old == null ? 0 : old.version.version(), fresh.version.version()));
    }
  }

  @Override
  public void close() {
    synchronized (swapLock) {
      if (closed) {
        return;
      }
      closed = true;
      try {
        subscription.close();
      } catch (Exception e) {
        LOG.debug("removing the registry listener failed", e);
      }
      SessionHandle h = current.getAndSet(null);
      if (h != null) {
        h.release();
      }
    }
    runtime.forget(this);
  }

  @Override
  public String toString() {
    return "Predictor[" + target + " -> " + servingVersion().map(v -> "v" + v.version()).orElse("closed") + ", " + codec + "]";
  }
}
