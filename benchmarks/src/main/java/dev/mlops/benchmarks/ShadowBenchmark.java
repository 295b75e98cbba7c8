package dev.mlops.benchmarks;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codecs;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.api.RolloutSpec;
import dev.mlops.runtime.Mlops;
import dev.mlops.runtime.RuntimeState;
import dev.mlops.testmodels.TestModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What a shadowed candidate costs the caller: one-row {@code predictor.predict(row)} on the alias
 * {@code production} (breast-cancer v1), single thread, in the same run. The candidate, v2, is made
 * 5 ms slower per call than the stable version by an observer that parks for 5 ms on v2's runs
 * only; every mode installs that observer, so the stable path is the same code in each. {@code
 * mode}:
 *
 * <ul>
 *   <li>{@code no-rollout}: no rollout; the baseline.
 *   <li>{@code rollout}: a rollout of v2 at weight 0 without shadow: the routing check per call.
 *   <li>{@code shadow-5ms}: a shadow-only rollout (weight 0, shadow 100 %): every call's copy is
 *       handed to the default shadow executor (one thread per two processors, room for 256 copies);
 *       at a 5 ms candidate against calls of a few microseconds almost every copy is dropped and
 *       counted, which is the saturated case the caller must not feel.
 * </ul>
 *
 * <p>Teardown checks that the shadow mode really mirrored and dropped copies, and prints the
 * counts.
 */
@State(Scope.Benchmark)
@BenchmarkMode({Mode.AverageTime, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(2)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ShadowBenchmark {

  private static final String MODEL = "cancer";
  private static final AuditInfo BENCH = AuditInfo.by("bench", "setup");

  @Param({"no-rollout", "rollout", "shadow-5ms"})
  public String mode;

  private Path directory;
  private Mlops mlops;
  private Predictor<float[], float[]> predictor;
  private float[][] rows;
  private int next;
  private final AtomicLong candidateRuns = new AtomicLong();

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    directory = Files.createTempDirectory("mlops-shadow");
    mlops =
        Mlops.builder()
            .localRegistry(directory.resolve("registry"))
            .swapExecutor(Runnable::run)
            .observers(
                (version, inputs, outputs) -> {
                  if (version.version() == 2) {
                    candidateRuns.incrementAndGet();
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
                  }
                })
            .build();
    for (String file : new String[] {TestModels.BREAST_CANCER_V1, TestModels.BREAST_CANCER_V2}) {
      mlops
          .registry()
          .register(
              Registration.builder(
                      MODEL, ArtifactSource.file(TestModels.copy(file, directory.resolve(file))))
                  .build(),
              BENCH);
    }
    mlops.registry().setAlias(MODEL, "production", 1, BENCH);
    switch (mode) {
      case "no-rollout":
        break;
      case "rollout":
        mlops.registry().startRollout(MODEL, "production", RolloutSpec.of(2), BENCH);
        break;
      case "shadow-5ms":
        mlops
            .registry()
            .startRollout(MODEL, "production", RolloutSpec.of(2).shadowPercent(100), BENCH);
        break;
      default:
        throw new IllegalArgumentException(
            "mode must be no-rollout, rollout or shadow-5ms but was " + mode);
    }
    predictor = mlops.predictor("models:/" + MODEL + "@production", Codecs.floatRow());
    rows = BenchModel.breastCancerRows();
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    try {
      RuntimeState.Shadow s = mlops.state().shadow();
      System.out.printf(
          "%nshadow (mode=%s): %d copies run on the candidate, %d dropped, %d failed%n",
          mode, s.mirrored(), s.dropped(), s.failed());
      if (mode.equals("shadow-5ms") && (s.mirrored() == 0 || s.dropped() == 0)) {
        throw new IllegalStateException(
            "the shadow ran "
                + s.mirrored()
                + " and dropped "
                + s.dropped()
                + " copies; the figures for mode=shadow-5ms measured no saturated shadow");
      }
      if (!mode.equals("shadow-5ms") && candidateRuns.get() != 0) {
        throw new IllegalStateException("the candidate ran in mode=" + mode);
      }
    } finally {
      predictor.close();
      mlops.close();
      BenchModel.deleteRecursively(directory);
    }
  }

  @Benchmark
  public float[] predict() {
    float[] row = rows[next];
    next = (next + 1) & (BenchModel.ROWS - 1);
    return predictor.predict(row).value();
  }
}
