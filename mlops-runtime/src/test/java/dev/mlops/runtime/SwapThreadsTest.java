package dev.mlops.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codec;
import dev.mlops.api.Codecs;
import dev.mlops.api.ModelRef;
import dev.mlops.api.ModelSignature;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Prediction;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.api.Tensor;
import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.testmodels.TestModels;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A swap never waits for a thread of the runtime's executor: neither batching workers nor {@code
 * predictAsync} calls on a small fixed pool keep a predictor on the old version. Swaps run on the
 * swap executor, one pending refresh per predictor.
 */
class SwapThreadsTest {

  private static final AuditInfo OPS = AuditInfo.by("ops", "test");

  @TempDir Path tmp;
  private ExecutorService executor;
  private Mlops mlops;

  @AfterEach
  void tearDown() {
    if (mlops != null) {
      mlops.close();
    }
    if (executor != null) {
      executor.shutdownNow();
    }
  }

  /** A runtime on a fixed pool, with v1 and v2 of one model and production on v1. */
  private void open(int threads) {
    executor = Executors.newFixedThreadPool(threads);
    mlops = Mlops.builder().localRegistry(tmp.resolve("registry")).executor(executor).build();
    for (String file : List.of(TestModels.BREAST_CANCER_V1, TestModels.BREAST_CANCER_V2)) {
      mlops
          .registry()
          .register(
              Registration.builder(
                      "cancer", ArtifactSource.file(TestModels.copy(file, tmp.resolve(file))))
                  .build(),
              OPS);
    }
    mlops.registry().setAlias("cancer", "production", 1, OPS);
  }

  /**
   * Completes when a predictor of {@code models:/cancer@production} has switched to {@code
   * version}.
   */
  private CompletableFuture<Void> swappedTo(long version) {
    CompletableFuture<Void> f = new CompletableFuture<>();
    mlops.addListener(
        e -> {
          if (e instanceof LifecycleEvent.VersionSwapped s && s.toVersion() == version) {
            f.complete(null);
          }
        });
    return f;
  }

  private static long serving(Predictor<?, ?> p) {
    return p.servingVersion().map(ModelVersion::version).orElse(0L);
  }

  @Test
  void batchingWorkersOnAFixedPoolOfTwoDoNotKeepThePredictorOnTheOldVersion() throws Exception {
    open(2);
    try (Predictor<float[], float[]> p =
        mlops
            .newPredictor(ModelRef.parse("models:/cancer@production"), Codecs.floatRow())
            .batching(BatchingOptions.builder().workers(2).build())
            .build()) {
      assertThat(p.predict(new float[30]).version()).isEqualTo(1);
      CompletableFuture<Void> swapped = swappedTo(2);
      mlops.registry().setAlias("cancer", "production", 2, OPS);
      try {
        swapped.get(10, TimeUnit.SECONDS);
      } catch (TimeoutException e) {
        throw new AssertionError(
            "still serving v" + serving(p) + " 10 s after production moved to v2");
      }
      assertThat(p.predict(new float[30]).version()).isEqualTo(2);
      assertThat(p.predictAsync(new float[30]).get(10, TimeUnit.SECONDS).version()).isEqualTo(2);
    }
  }

  /** floatRow whose decode blocks until released, so an async call holds its executor thread. */
  private static final class BlockingCodec implements Codec<float[], float[]> {
    private final Codec<float[], float[]> row = Codecs.floatRow();
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    @Override
    public Map<String, Tensor> encode(float[] input, ModelSignature signature) {
      return row.encode(input, signature);
    }

    @Override
    public float[] decode(Map<String, Tensor> outputs, ModelSignature signature) {
      entered.countDown();
      try {
        release.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return row.decode(outputs, signature);
    }
  }

  @Test
  void aPredictAsyncCallHoldingTheOnlyExecutorThreadDoesNotDelayTheSwap() throws Exception {
    open(1);
    BlockingCodec codec = new BlockingCodec();
    try (Predictor<float[], float[]> p = mlops.predictor("models:/cancer@production", codec)) {
      CompletableFuture<Prediction<float[]>> stuck = p.predictAsync(new float[30]);
      assertThat(codec.entered.await(10, TimeUnit.SECONDS))
          .as("the async call holds the executor's thread")
          .isTrue();
      CompletableFuture<Void> swapped = swappedTo(2);
      mlops.registry().setAlias("cancer", "production", 2, OPS);
      try {
        swapped.get(10, TimeUnit.SECONDS);
      } catch (TimeoutException e) {
        throw new AssertionError(
            "still serving v" + serving(p) + " 10 s after production moved to v2");
      } finally {
        codec.release.countDown();
      }
      assertThat(stuck.get(10, TimeUnit.SECONDS).version())
          .as("the call that was running")
          .isEqualTo(1);
    }
  }

  /** An executor that keeps its tasks until the test runs them. */
  private static final class HeldTasks implements java.util.concurrent.Executor {
    final List<Runnable> tasks = new java.util.concurrent.CopyOnWriteArrayList<>();

    @Override
    public void execute(Runnable task) {
      tasks.add(task);
    }

    void runAll() {
      List<Runnable> now = List.copyOf(tasks);
      tasks.clear();
      now.forEach(Runnable::run);
    }
  }

  @Test
  void aBurstOfAliasMovesQueuesOneRefreshPerPredictorOnTheSwapExecutor() throws Exception {
    HeldTasks swaps = new HeldTasks();
    mlops = Mlops.builder().localRegistry(tmp.resolve("registry")).swapExecutor(swaps).build();
    for (String file : List.of(TestModels.BREAST_CANCER_V1, TestModels.BREAST_CANCER_V2)) {
      mlops
          .registry()
          .register(
              Registration.builder(
                      "cancer", ArtifactSource.file(TestModels.copy(file, tmp.resolve(file))))
                  .build(),
              OPS);
    }
    mlops.registry().setAlias("cancer", "production", 1, OPS);
    try (Predictor<float[], float[]> a =
            mlops.predictor("models:/cancer@production", Codecs.floatRow());
        Predictor<float[], float[]> b =
            mlops
                .newPredictor(ModelRef.parse("models:/cancer@production"), Codecs.floatRow())
                .swapMode(SwapMode.RESOURCE_PRESERVING)
                .build()) {
      assertThat(swaps.tasks).isEmpty();
      for (long v : new long[] {2, 1, 2, 1, 2}) {
        mlops.registry().setAlias("cancer", "production", v, OPS);
      }
      assertThat(swaps.tasks).as("refreshes pending after five moves").hasSize(2);
      assertThat(serving(a)).isEqualTo(1);
      swaps.runAll();
      assertThat(serving(a)).isEqualTo(2);
      assertThat(serving(b)).isEqualTo(2);
      mlops.registry().setAlias("cancer", "production", 1, OPS);
      assertThat(swaps.tasks).as("a move after the refresh ran").hasSize(2);
      swaps.runAll();
      assertThat(serving(a)).isEqualTo(1);
      assertThat(serving(b)).isEqualTo(1);
    }
  }

  @Test
  void aDirectSwapExecutorSwitchesThePredictorBeforeTheMoveReturns() throws Exception {
    mlops =
        Mlops.builder().localRegistry(tmp.resolve("registry")).swapExecutor(Runnable::run).build();
    for (String file : List.of(TestModels.BREAST_CANCER_V1, TestModels.BREAST_CANCER_V2)) {
      mlops
          .registry()
          .register(
              Registration.builder(
                      "cancer", ArtifactSource.file(TestModels.copy(file, tmp.resolve(file))))
                  .build(),
              OPS);
    }
    mlops.registry().setAlias("cancer", "production", 1, OPS);
    try (Predictor<float[], float[]> p =
        mlops.predictor("models:/cancer@production", Codecs.floatRow())) {
      mlops.registry().setAlias("cancer", "production", 2, OPS);
      assertThat(serving(p)).isEqualTo(2);
      assertThat(p.predict(new float[30]).version()).isEqualTo(2);
    }
    assertThatThrownBy(
            () -> Mlops.builder().swapExecutor(Runnable::run).swapExecutor(Runnable::run))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("swapExecutor: already set");
  }
}
