package dev.mlops.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codec;
import dev.mlops.api.Codecs;
import dev.mlops.api.ModelSignature;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.api.Tensor;
import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.api.event.LifecycleListener;
import dev.mlops.testmodels.TestModels;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

/** Shared pieces of the hot-swap and shutdown acceptance tests. */
final class HotSwapFixtures {

  static final AuditInfo OPS = AuditInfo.by("ops", "hot-swap acceptance");

  private HotSwapFixtures() {}

  /** Registers a copy of a shipped model under {@code name}; copies go to distinct folders. */
  static ModelVersion register(Mlops mlops, String name, String file, Path scratch) {
    Path copy = TestModels.copy(file, scratch.resolve("src-" + System.nanoTime()));
    return mlops
        .registry()
        .register(Registration.builder(name, ArtifactSource.file(copy)).build(), OPS);
  }

  /** Polls until {@code condition} holds, failing with {@code what} after {@code timeout}. */
  static void await(BooleanSupplier condition, Duration timeout, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeout + " waiting for " + what);
      }
      Thread.sleep(1);
    }
  }

  static void awaitServing(Predictor<?, ?> p, long version) throws InterruptedException {
    await(
        () -> p.servingVersion().map(ModelVersion::version).orElse(0L) == version,
        Duration.ofSeconds(20),
        p + " to serve v" + version);
  }

  static void joinAll(List<Thread> threads, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    for (Thread t : threads) {
      t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      assertThat(t.isAlive()).as("%s still running after %s", t.getName(), timeout).isFalse();
    }
  }

  /** Every lifecycle event, in the order the runtime published them. */
  static final class Events implements LifecycleListener {
    final List<LifecycleEvent> all = new CopyOnWriteArrayList<>();

    @Override
    public void onEvent(LifecycleEvent event) {
      all.add(event);
    }

    <E extends LifecycleEvent> List<E> of(Class<E> type) {
      return all.stream().filter(type::isInstance).map(type::cast).toList();
    }

    <E extends LifecycleEvent> long count(Class<E> type, Predicate<? super E> filter) {
      return of(type).stream().filter(filter).count();
    }

    long loaded() {
      return of(LifecycleEvent.ModelLoaded.class).size();
    }

    long unloaded() {
      return of(LifecycleEvent.ModelUnloaded.class).size();
    }

    long loaded(long version) {
      return count(LifecycleEvent.ModelLoaded.class, e -> e.version() == version);
    }

    long unloaded(long version) {
      return count(LifecycleEvent.ModelUnloaded.class, e -> e.version() == version);
    }

    /** Loaded and unloaded events only, as "L1", "U1", ... in publication order. */
    List<String> loadTrace() {
      return all.stream()
          .map(
              e ->
                  e instanceof LifecycleEvent.ModelLoaded l
                      ? "L" + l.version()
                      : e instanceof LifecycleEvent.ModelUnloaded u ? "U" + u.version() : null)
          .filter(s -> s != null)
          .toList();
    }
  }

  /**
   * {@link Codecs#floatRow()} whose {@code decode} blocks, on the threads that ask for it, until
   * the gate opens. The call holds its lease while it waits.
   */
  static final class GatedCodec implements Codec<float[], float[]> {
    private final Codec<float[], float[]> row = Codecs.floatRow();
    private final ThreadLocal<Boolean> slow = ThreadLocal.withInitial(() -> false);
    final CountDownLatch gate = new CountDownLatch(1);

    /** Slow calls that reached {@code decode} and are waiting at the gate. */
    final AtomicInteger waiting = new AtomicInteger();

    /** Slow calls that passed the gate and finished decoding. */
    final AtomicInteger decoded = new AtomicInteger();

    /** Makes calls on the current thread slow. */
    void slowOnThisThread() {
      slow.set(true);
    }

    @Override
    public Map<String, Tensor> encode(float[] input, ModelSignature signature) {
      return row.encode(input, signature);
    }

    @Override
    public float[] decode(Map<String, Tensor> outputs, ModelSignature signature) {
      if (!slow.get()) {
        return row.decode(outputs, signature);
      }
      waiting.incrementAndGet();
      try {
        if (!gate.await(60, TimeUnit.SECONDS)) {
          throw new IllegalStateException("the test never opened the gate");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted at the gate", e);
      }
      float[] out = row.decode(outputs, signature);
      decoded.incrementAndGet();
      return out;
    }

    @Override
    public String toString() {
      return "GatedCodec(floatRow)";
    }
  }
}
