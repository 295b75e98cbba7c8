package dev.mlops.runtime.attacks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactLocation;
import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditAction;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.AuditQuery;
import dev.mlops.api.Codecs;
import dev.mlops.api.IntegrityException;
import dev.mlops.api.MlopsException;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.api.Tensor;
import dev.mlops.api.spi.ModelSession;
import dev.mlops.runtime.Mlops;
import dev.mlops.runtime.local.LocalModelRegistry;
import dev.mlops.runtime.onnx.ExternalDataModels;
import dev.mlops.runtime.onnx.ExternalDataModels.Placement;
import dev.mlops.runtime.onnx.OnnxRuntimeEngine;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.runtime.registry.VerifiedArtifact;
import dev.mlops.runtime.testing.Decoys;
import dev.mlops.runtime.testing.Stored;
import dev.mlops.testmodels.TestModels;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The bytes served are the bytes verified. A co-tenant of the registry directory swaps another file
 * over a stored one, blindly or timed on the start of each load's hash read, while 1,000 loads run:
 * no load may serve the other file; each serves the registered bytes or is refused as damaged. An
 * in-place write into stored external data never changes a live session.
 */
class Finding03SwapTest {

  private static final int LOADS = 1000;
  private static final AuditInfo ALICE = AuditInfo.by("alice", "release");

  /** Which stored file the attacker replaces. */
  enum Target {
    /** The model file: the other model is breast-cancer v2. */
    MODEL_FILE,
    /** The external data of a model: the other weights are the attacker's. */
    EXTERNAL_DATA
  }

  /** How the attacker times the swaps. */
  enum Swapper {
    /** Swaps back and forth as fast as it can. */
    BLIND,
    /** Waits for each load to start copying and hashing, then swaps, and restores after it. */
    TIMED_ON_HASH_READ
  }

  @TempDir Path tmp;
  private Decoys decoys;
  private OnnxRuntimeEngine engine;
  private GovernedRegistry registry;
  private Path privateDir;

  @BeforeEach
  void open() {
    decoys = Decoys.in(tmp.resolve("outside"));
    engine = new OnnxRuntimeEngine();
    privateDir = tmp.resolve("private");
    registry =
        LocalModelRegistry.builder(tmp.resolve("reg"))
            .engine(engine)
            .loadCopies(privateDir)
            .build();
  }

  @AfterEach
  void close() {
    registry.close();
    engine.close();
    decoys.assertUntouched();
  }

  /** What one load served. */
  private enum Served {
    REGISTERED,
    OTHER,
    REFUSED
  }

  /** The registered version, the file the attacker replaces, and the two outputs told apart. */
  private record Fixture(
      ModelVersion version,
      Path stored,
      byte[] registered,
      byte[] other,
      Map<String, Tensor> probe,
      Map<String, Tensor> registeredOutput,
      Map<String, Tensor> otherOutput) {}

  private Fixture fixture(Target target) throws Exception {
    if (target == Target.MODEL_FILE) {
      Path v1 = TestModels.copy(TestModels.BREAST_CANCER_V1, tmp.resolve("v1"));
      Path v2 = TestModels.copy(TestModels.BREAST_CANCER_V2, tmp.resolve("v2"));
      ModelVersion v =
          registry.register(Registration.builder("cancer", ArtifactSource.file(v1)).build(), ALICE);
      float[] row = TestModels.breastCancerTestSet().features()[0];
      Map<String, Tensor> probe;
      Map<String, Tensor> other;
      try (ModelSession s = engine.open(new ArtifactLocation(v2.getParent(), v2))) {
        String input = s.signature().inputs().get(0).name();
        probe = Map.of(input, Tensor.ofFloats(row, 1, row.length));
        other = s.run(probe);
      }
      Map<String, Tensor> registered = load(v, probe);
      assertThat(registered).as("the two models answer the probe differently").isNotEqualTo(other);
      return new Fixture(
          v,
          Stored.modelFile(registry, v),
          Files.readAllBytes(v1),
          Files.readAllBytes(v2),
          probe,
          registered,
          other);
    }
    Path src = Files.createDirectories(tmp.resolve("ext"));
    Files.write(
        src.resolve("model.onnx"), ExternalDataModels.of(Placement.INITIALIZER, "w.bin").toBytes());
    Files.write(src.resolve("w.bin"), ExternalDataModels.weightBytes());
    ModelVersion v =
        registry.register(
            Registration.builder("ext", ArtifactSource.directory(src, "model.onnx")).build(),
            ALICE);
    Map<String, Tensor> probe = Map.of("x", Tensor.ofFloats(new float[3], 1, 3));
    float[] evil = {666f, 667f, 668f};
    return new Fixture(
        v,
        Stored.directory(registry, v).resolve("w.bin"),
        ExternalDataModels.weightBytes(),
        floats(evil),
        probe,
        Map.of("y", Tensor.ofFloats(ExternalDataModels.WEIGHTS, 1, 3)),
        Map.of("y", Tensor.ofFloats(evil, 1, 3)));
  }

  /** One load as the runtime does it: verify (copying while hashing), then open the copy. */
  private Map<String, Tensor> load(ModelVersion v, Map<String, Tensor> probe) {
    try (VerifiedArtifact a = registry.verifiedArtifact(v);
        ModelSession s = engine.open(a.location())) {
      return s.run(probe);
    }
  }

  private Served classify(Fixture f) {
    Map<String, Tensor> out;
    try {
      out = load(f.version(), f.probe());
    } catch (MlopsException refused) {
      return Served.REFUSED;
    }
    if (out.equals(f.registeredOutput())) {
      return Served.REGISTERED;
    }
    assertThat(out).as("a load's output").isEqualTo(f.otherOutput());
    return Served.OTHER;
  }

  /** Renames {@code bytes}, written beside the directory's parent, over {@code stored}. */
  private void swapIn(Path stored, byte[] bytes) throws Exception {
    Path next = Files.createTempFile(tmp, "swap", ".tmp");
    Files.write(next, bytes);
    Files.move(next, stored, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  @ParameterizedTest
  @EnumSource(Target.class)
  void blindSwapperServesTheOtherFileInNoneOfAThousandLoads(Target target) throws Exception {
    Fixture f = fixture(target);
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger swaps = new AtomicInteger();
    Thread swapper =
        new Thread(
            () -> {
              try {
                while (!stop.get()) {
                  swapIn(f.stored(), f.other());
                  swapIn(f.stored(), f.registered());
                  swaps.incrementAndGet();
                }
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            },
            "blind-swapper");
    swapper.start();
    Map<Served, Integer> counts = run(f);
    stop.set(true);
    swapper.join();
    report("blind", target, counts, swaps.get());

    assertThat(counts.getOrDefault(Served.OTHER, 0)).as("loads serving the other file").isZero();
    assertThat(swaps.get()).as("swaps made").isPositive();
    afterTheAttack(f);
  }

  @ParameterizedTest
  @EnumSource(Target.class)
  void swapperTimedOnTheHashReadServesTheOtherFileInNoneOfAThousandLoads(Target target)
      throws Exception {
    Fixture f = fixture(target);
    Path loads = privateDir.resolve("loads");
    assertThat(loads).isDirectory();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger timedSwaps = new AtomicInteger();
    try (WatchService watch = FileSystems.getDefault().newWatchService()) {
      loads.register(watch, StandardWatchEventKinds.ENTRY_CREATE);
      Thread swapper =
          new Thread(
              () -> {
                try {
                  while (!stop.get()) {
                    WatchKey key = watch.poll(20, TimeUnit.MILLISECONDS);
                    if (key == null) {
                      continue;
                    }
                    for (var event : key.pollEvents()) {
                      if (!(event.context() instanceof Path name)) {
                        continue;
                      }
                      // The load has started reading; the old code hashed, then let ONNX Runtime
                      // open the stored path. Swap right after the read begins, restore after.
                      Thread.sleep(0, ThreadLocalRandom.current().nextInt(500_000));
                      swapIn(f.stored(), f.other());
                      timedSwaps.incrementAndGet();
                      Path entry = loads.resolve(name);
                      for (int i = 0; i < 2000 && Files.exists(entry); i++) {
                        Thread.onSpinWait();
                      }
                      swapIn(f.stored(), f.registered());
                    }
                    key.reset();
                  }
                } catch (java.nio.file.ClosedWatchServiceException closed) {
                  // the test is over
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              },
              "timed-swapper");
      swapper.start();
      Map<Served, Integer> counts = run(f);
      stop.set(true);
      swapper.join();
      report("timed", target, counts, timedSwaps.get());

      assertThat(counts.getOrDefault(Served.OTHER, 0)).as("loads serving the other file").isZero();
      assertThat(timedSwaps.get()).as("swaps timed on a load").isPositive();
    }
    afterTheAttack(f);
  }

  private Map<Served, Integer> run(Fixture f) {
    Map<Served, Integer> counts = new java.util.EnumMap<>(Served.class);
    for (int i = 0; i < LOADS; i++) {
      counts.merge(classify(f), 1, Integer::sum);
    }
    assertThat(counts.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(LOADS);
    return counts;
  }

  /** With the registered bytes back in place the version loads again, and only one is audited. */
  private void afterTheAttack(Fixture f) throws Exception {
    swapIn(f.stored(), f.registered());
    assertThat(load(f.version(), f.probe())).isEqualTo(f.registeredOutput());
    assertThat(registry.audit(AuditQuery.builder().actions(AuditAction.REGISTER).build()))
        .hasSize(1);
  }

  private static void report(String swapper, Target target, Map<Served, Integer> counts, int n) {
    System.out.printf(
        "%s swapper on %s: %s of %d loads, %d swaps%n", swapper, target, counts, LOADS, n);
  }

  private static byte[] floats(float[] values) {
    ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      b.putFloat(v);
    }
    return b.array();
  }

  @Test
  void inPlaceWriteIntoStoredExternalDataNeverChangesALiveSession() throws Exception {
    Fixture f = fixture(Target.EXTERNAL_DATA);
    float[] zeros = new float[3];
    try (Mlops mlops = Mlops.builder().registry(registry).engine(engine).build();
        Predictor<float[], float[]> p = mlops.predictor("models:/ext/1", Codecs.floatRow())) {
      assertThat(p.predict(zeros).value()).containsExactly(ExternalDataModels.WEIGHTS);

      try (FileChannel ch = FileChannel.open(f.stored(), StandardOpenOption.WRITE)) {
        ch.write(ByteBuffer.wrap(f.other()), 0);
        ch.force(true);
      }
      assertThat(Files.readAllBytes(f.stored())).isEqualTo(f.other());

      assertThat(p.predict(zeros).value()).containsExactly(ExternalDataModels.WEIGHTS);
      try (Predictor<float[], float[]> again =
          mlops.predictor("models:/ext/1", Codecs.floatRow())) {
        assertThat(again.predict(zeros).value()).containsExactly(ExternalDataModels.WEIGHTS);
      }
    }
    // A new load reads the changed file and refuses it.
    assertThatThrownBy(() -> load(f.version(), f.probe())).isInstanceOf(IntegrityException.class);
  }
}
