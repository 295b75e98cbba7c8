package dev.mlops.benchmarks;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codecs;
import dev.mlops.api.ModelRegistry;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.runtime.Mlops;
import dev.mlops.runtime.local.LocalModelRegistry;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.testmodels.TestModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
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
 * What one alias move costs the caller of the registry, with the move's checks, against {@link
 * ModelRegistry#forceAlias} (no checks) in the same run. The alias {@code production} is moved back
 * and forth between v1 and v2 of one model while a predictor follows it, as in a service.
 * {@code @Param move}:
 *
 * <ul>
 *   <li>{@code forceAlias}: no compatibility or load check; the state write, the audit line and the
 *       events;
 *   <li>{@code setAlias-loaded}: {@code setAlias} to a version the runtime has loaded (a rollback):
 *       the check finds it in the session cache and loads nothing;
 *   <li>{@code setAlias-first-move}: {@code setAlias} to a version that is not loaded: the check
 *       verifies it, loads and warms it up into the runtime's session cache, where the predictor
 *       then finds it (before each move the other version is evicted, so every move is a first);
 *   <li>{@code setAlias-no-runtime}: {@code setAlias} on a registry no runtime serves from: the
 *       check verifies the version and opens a session of its own, every time (what every {@code
 *       setAlias} cost before alias checks went through the runtime, less the warm-up run).
 * </ul>
 *
 * {@code @Param model}: {@code breast-cancer} (the 9 KB MLP classifier) or {@code wide} (the 21 MB
 * MLP of {@link WideModel}). {@code SampleTime} in milliseconds.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
public class AliasMoveBenchmark {

  private static final String MODEL = "m";
  private static final String ALIAS = "production";
  private static final AuditInfo AUDIT = AuditInfo.by("bench", "move");

  @Param({"breast-cancer", "wide"})
  public String model;

  @Param({"forceAlias", "setAlias-loaded", "setAlias-first-move", "setAlias-no-runtime"})
  public String move;

  private Path directory;
  private Mlops mlops;
  private GovernedRegistry standalone;
  private ModelRegistry registry;
  private Predictor<float[], float[]> predictor;
  private ModelVersion[] versions;
  private int target;

  @Setup(Level.Trial)
  public void setUp() throws IOException, InterruptedException {
    directory = Files.createTempDirectory("mlops-alias-move");
    if (move.equals("setAlias-no-runtime")) {
      standalone = LocalModelRegistry.open(directory.resolve("registry"));
      registry = standalone;
    } else if (move.equals("forceAlias") || move.startsWith("setAlias-")) {
      mlops = Mlops.builder().localRegistry(directory.resolve("registry")).build();
      registry = mlops.registry();
    } else {
      throw new IllegalArgumentException(
          "move must be forceAlias, setAlias-loaded, setAlias-first-move or"
              + " setAlias-no-runtime but was "
              + move);
    }
    Path file;
    if (model.equals("wide")) {
      file = WideModel.write(directory.resolve("source"));
    } else if (model.equals("breast-cancer")) {
      file = TestModels.copy(TestModels.BREAST_CANCER_V2, directory.resolve("source"));
    } else {
      throw new IllegalArgumentException("model must be breast-cancer or wide but was " + model);
    }
    versions = new ModelVersion[2];
    for (int i = 0; i < 2; i++) {
      versions[i] =
          registry.register(Registration.builder(MODEL, ArtifactSource.file(file)).build(), AUDIT);
    }
    // Both versions loaded (and the alias on v1) before the first measured move.
    registry.setAlias(MODEL, ALIAS, versions[1].version(), AUDIT);
    registry.setAlias(MODEL, ALIAS, versions[0].version(), AUDIT);
    if (mlops != null) {
      predictor = mlops.predictor("models:/" + MODEL + "@" + ALIAS, Codecs.floatRow());
    }
    target = 1;
  }

  /**
   * For first moves: the follower has finished its last swap, and the version moved to next is not
   * loaded.
   */
  @Setup(Level.Invocation)
  public void beforeMove() throws InterruptedException {
    if (predictor != null) {
      long serving = versions[1 - target].version();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (predictor.servingVersion().map(ModelVersion::version).orElse(0L) != serving) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "the predictor did not switch to v" + serving + " within 30 s");
        }
        Thread.sleep(1);
      }
    }
    if (move.equals("setAlias-first-move")) {
      mlops.evict(versions[target]);
    }
  }

  @Benchmark
  public Object move() {
    ModelVersion to = versions[target];
    target = 1 - target;
    return move.equals("forceAlias")
        ? registry.forceAlias(MODEL, ALIAS, to.version(), AUDIT)
        : registry.setAlias(MODEL, ALIAS, to.version(), AUDIT);
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    if (mlops != null) {
      Mlops.SessionStats s = mlops.sessionStats();
      System.out.println(
          "move="
              + move
              + " model="
              + model
              + ": sessions opened "
              + s.opened()
              + ", closed "
              + s.closed());
      if (predictor != null) {
        predictor.close();
      }
      mlops.close();
    }
    if (standalone != null) {
      standalone.close();
    }
    BenchModel.deleteRecursively(directory);
  }
}
