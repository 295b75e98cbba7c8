package dev.mlops.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactLocation;
import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codec;
import dev.mlops.api.Codecs;
import dev.mlops.api.ModelRef;
import dev.mlops.api.ModelSignature;
import dev.mlops.api.Prediction;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.api.SessionOptions;
import dev.mlops.api.Tensor;
import dev.mlops.api.spi.InferenceEngine;
import dev.mlops.api.spi.ModelSession;
import dev.mlops.runtime.onnx.OnnxRuntimeEngine;
import dev.mlops.testmodels.TestModels;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Mlops#state()}: what a runtime holds, as health checks and endpoints read it. */
class RuntimeStateTest {

  private static final AuditInfo OPS = AuditInfo.by("ops", "test");
  private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");

  @TempDir Path tmp;

  private static void registerTwo(Mlops mlops, Path tmp) {
    for (String file : List.of(TestModels.BREAST_CANCER_V1, TestModels.BREAST_CANCER_V2)) {
      mlops
          .registry()
          .register(
              Registration.builder(
                      "cancer", ArtifactSource.file(TestModels.copy(file, tmp.resolve(file))))
                  .build(),
              OPS);
    }
  }

  /**
   * floatRow whose decode blocks, while armed, until released: a call in flight holds its lease.
   */
  private static final class HeldCall implements Codec<float[], float[]> {
    private final Codec<float[], float[]> row = Codecs.floatRow();
    final AtomicBoolean armed = new AtomicBoolean();
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    @Override
    public Map<String, Tensor> encode(float[] input, ModelSignature signature) {
      return row.encode(input, signature);
    }

    @Override
    public float[] decode(Map<String, Tensor> outputs, ModelSignature signature) {
      if (armed.compareAndSet(true, false)) {
        entered.countDown();
        try {
          release.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return row.decode(outputs, signature);
    }
  }

  @Test
  void listsEveryOpenPredictorAndEverySessionWithItsReferences() throws Exception {
    try (Mlops mlops =
        Mlops.builder()
            .localRegistry(tmp.resolve("registry"))
            .clock(Clock.fixed(NOW, ZoneOffset.UTC))
            .swapExecutor(Runnable::run)
            .build()) {
      registerTwo(mlops, tmp);
      mlops.registry().forceAlias("cancer", "production", 1, OPS);
      HeldCall codec = new HeldCall();
      Predictor<float[], float[]> following =
          mlops
              .newPredictor(ModelRef.parse("models:/cancer@production"), codec)
              .keepWarm(1)
              .build();
      Predictor<float[], float[]> batched =
          mlops
              .newPredictor(ModelRef.parse("models:/cancer/2"), Codecs.floatRow())
              .swapMode(SwapMode.RESOURCE_PRESERVING)
              .batching(BatchingOptions.builder().workers(1).build())
              .build();

      RuntimeState s = mlops.state();
      assertThat(s.time()).isEqualTo(NOW);
      assertThat(s.open()).isTrue();
      assertThat(s.predictors())
          .containsExactly(
              new RuntimeState.PredictorState(
                  ModelRef.parse("models:/cancer@production"),
                  1,
                  SwapMode.AVAILABILITY_PRESERVING,
                  false,
                  List.of()),
              new RuntimeState.PredictorState(
                  ModelRef.parse("models:/cancer/2"),
                  2,
                  SwapMode.RESOURCE_PRESERVING,
                  true,
                  List.of()));
      SessionOptions defaults = mlops.sessionOptions();
      // Each version: the cache's reference and its predictor's.
      assertThat(s.loaded())
          .containsExactly(
              new RuntimeState.LoadedVersion("cancer", 1, defaults, 2, true),
              new RuntimeState.LoadedVersion("cancer", 2, defaults, 2, true));
      assertThat(s.loading()).isEmpty();
      assertThat(s.sessions()).isEqualTo(mlops.sessionStats());
      assertThat(s.sessions().opened()).isEqualTo(2);

      // A call in flight holds one more reference on v1.
      codec.armed.set(true);
      CompletableFuture<Prediction<float[]>> call =
          CompletableFuture.supplyAsync(() -> following.predict(new float[30]));
      assertThat(codec.entered.await(10, TimeUnit.SECONDS)).isTrue();
      assertThat(mlops.state().loaded())
          .first()
          .isEqualTo(new RuntimeState.LoadedVersion("cancer", 1, defaults, 3, true));

      // The alias moves (the swap runs before the move returns): v1 is kept warm, then evicted from
      // the cache.
      mlops.registry().forceAlias("cancer", "production", 2, OPS);
      mlops.evict(mlops.registry().get(ModelRef.parse("models:/cancer/1")));
      s = mlops.state();
      assertThat(s.predictors())
          .first()
          .isEqualTo(
              new RuntimeState.PredictorState(
                  ModelRef.parse("models:/cancer@production"),
                  2,
                  SwapMode.AVAILABILITY_PRESERVING,
                  false,
                  List.of(1L)));
      assertThat(s.loaded())
          .containsExactly(
              new RuntimeState.LoadedVersion(
                  "cancer", 1, defaults, 2, false), // kept warm + the call
              new RuntimeState.LoadedVersion(
                  "cancer", 2, defaults, 3, true)); // cache + both predictors
      codec.release.countDown();
      assertThat(call.get(10, TimeUnit.SECONDS).version()).isEqualTo(1);
      assertThat(mlops.state().loaded())
          .first()
          .isEqualTo(new RuntimeState.LoadedVersion("cancer", 1, defaults, 1, false));

      following.close();
      assertThat(mlops.state().predictors())
          .extracting(RuntimeState.PredictorState::target)
          .containsExactly(ModelRef.parse("models:/cancer/2"));
      assertThat(mlops.state().loaded())
          .extracting(RuntimeState.LoadedVersion::version)
          .containsExactly(2L);
      batched.close();
    }
  }

  /** Delegates to a real engine; once armed, the next open waits for the gate. */
  private static final class GatedEngine implements InferenceEngine {
    private final InferenceEngine delegate = OnnxRuntimeEngine.builder().build();
    final AtomicBoolean armed = new AtomicBoolean();
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch gate = new CountDownLatch(1);

    @Override
    public String name() {
      return "gated-" + delegate.name();
    }

    @Override
    public ModelSession open(ArtifactLocation artifact) {
      return open(artifact, SessionOptions.DEFAULTS);
    }

    @Override
    public ModelSession open(ArtifactLocation artifact, SessionOptions options) {
      if (armed.compareAndSet(true, false)) {
        entered.countDown();
        try {
          if (!gate.await(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the test never opened the gate");
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        }
      }
      return delegate.open(artifact, options);
    }

    @Override
    public void close() {
      delegate.close();
    }
  }

  @Test
  void showsALoadInFlightUntilItCompletes() throws Exception {
    GatedEngine engine = new GatedEngine();
    Mlops mlops = Mlops.builder().localRegistry(tmp.resolve("registry")).engine(engine).build();
    try (engine;
        mlops) {
      registerTwo(mlops, tmp);
      SessionOptions two = SessionOptions.builder().intraOpThreads(2).build();
      engine.armed.set(true);
      CompletableFuture<Predictor<float[], float[]>> building =
          CompletableFuture.supplyAsync(
              () ->
                  mlops
                      .newPredictor(ModelRef.parse("models:/cancer/2"), Codecs.floatRow())
                      .sessionOptions(two)
                      .build());
      assertThat(engine.entered.await(10, TimeUnit.SECONDS)).as("the load started").isTrue();
      RuntimeState s = mlops.state();
      assertThat(s.loading()).containsExactly(new RuntimeState.Load("cancer", 2, two));
      assertThat(s.loaded()).isEmpty();
      assertThat(s.predictors()).isEmpty();
      engine.gate.countDown();
      try (Predictor<float[], float[]> p = building.get(20, TimeUnit.SECONDS)) {
        s = mlops.state();
        assertThat(s.loading()).isEmpty();
        assertThat(s.loaded())
            .containsExactly(new RuntimeState.LoadedVersion("cancer", 2, two, 2, true));
        assertThat(s.predictors())
            .extracting(RuntimeState.PredictorState::servingVersion)
            .containsExactly(2L);
        assertThat(p.predict(new float[30]).version()).isEqualTo(2);
      }
    }
  }

  @Test
  void countsTelemetryFailuresAndShowsAClosedRuntimeAsEmpty() {
    Mlops mlops =
        Mlops.builder()
            .localRegistry(tmp.resolve("registry"))
            .metricSink(
                e -> {
                  throw new IllegalStateException("broken sink");
                })
            .observers(
                (v, in, out) -> {
                  throw new IllegalStateException("broken observer");
                })
            .build();
    mlops.addListener(
        e -> {
          throw new IllegalStateException("broken listener");
        });
    registerTwo(mlops, tmp);
    Predictor<float[], float[]> p = mlops.predictor("models:/cancer/1", Codecs.floatRow());
    for (int i = 0; i < 3; i++) {
      p.predict(new float[30]);
    }
    RuntimeState s = mlops.state();
    assertThat(s.sinkFailures())
        .as("sink failures: three predictions; its lifecycle method is a no-op")
        .isEqualTo(3);
    assertThat(s.observerFailures()).isEqualTo(3);
    // Two registrations and one load reached the listener.
    assertThat(s.listenerFailures()).isEqualTo(3);

    mlops.close();
    RuntimeState closed = mlops.state();
    assertThat(closed.open()).isFalse();
    assertThat(closed.predictors()).isEmpty();
    assertThat(closed.loaded()).isEmpty();
    assertThat(closed.sessions().opened()).isEqualTo(1);
    assertThat(closed.sessions().closed()).isEqualTo(1);
    assertThatThrownBy(() -> closed.predictors().add(null))
        .isInstanceOf(UnsupportedOperationException.class);
  }
}
