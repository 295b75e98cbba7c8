package dev.mlops.runtime.local;

import static dev.mlops.runtime.local.RegistryTestSupport.snapshot;
import static dev.mlops.runtime.local.RegistryTestSupport.stagingEntries;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codecs;
import dev.mlops.api.IntegrityException;
import dev.mlops.api.ModelLoadException;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Predictor;
import dev.mlops.api.Registration;
import dev.mlops.runtime.Mlops;
import dev.mlops.runtime.onnx.BrokenModels;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.testmodels.TestModels;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * More than a hundred generated bad artifacts, registered one after another into one live registry
 * that serves an alias throughout: each gets a typed error and changes nothing (or, for a bit flip
 * that still makes a valid model, registers completely and changes nothing else), the JVM stays up,
 * no session leaks, and the served alias keeps answering the same.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CorruptModelSuiteTest {

  private static final Logger LOG = LoggerFactory.getLogger(CorruptModelSuiteTest.class);
  private static final AuditInfo FUZZ = AuditInfo.by("fuzzer", "corrupt model suite");
  private static final float[] ROW = TestModels.breastCancerTestSet().features()[0];

  @TempDir static Path tmp;
  private CountingEngine engine;
  private GovernedRegistry registry;
  private Mlops mlops;
  private Predictor<float[], float[]> prod;
  private float[] baseline;
  private Map<String, Long> aliases;
  private final AtomicInteger tried = new AtomicInteger();
  private final AtomicInteger rejected = new AtomicInteger();
  private final List<String> accepted = new ArrayList<>();
  private final Map<String, Integer> errorTypes = new TreeMap<>();

  @BeforeAll
  void servingRegistry() {
    engine = new CountingEngine();
    registry = LocalModelRegistry.builder(tmp.resolve("reg")).engine(engine).build();
    Path v1 = TestModels.copy(TestModels.BREAST_CANCER_V1, tmp);
    Path v2 = TestModels.copy(TestModels.BREAST_CANCER_V2, tmp);
    registry.register(Registration.builder("cancer", ArtifactSource.file(v1)).build(), FUZZ);
    registry.register(Registration.builder("cancer", ArtifactSource.file(v2)).build(), FUZZ);
    registry.setAlias("cancer", "prod", 1, FUZZ);
    registry.setAlias("cancer", "canary", 2, FUZZ);
    aliases = registry.aliases("cancer");
    mlops = Mlops.builder().registry(registry).engine(engine).build();
    prod = mlops.predictor("models:/cancer@prod", Codecs.floatRow());
    baseline = prod.predict(ROW).value();
  }

  @AfterAll
  void closeAll() {
    if (prod != null) {
      prod.close();
    }
    if (mlops != null) {
      mlops.close();
    }
    registry.close();
    engine.close();
  }

  static Stream<Arguments> cases() {
    return badArtifacts().stream().map(b -> Arguments.of(b.getName(), b.getPayload()));
  }

  /** Every bad artifact, generated from the fixture models with fixed seeds. */
  static List<Named<byte[]>> badArtifacts() {
    byte[] v1 = TestModels.bytes(TestModels.BREAST_CANCER_V1);
    byte[] v2 = TestModels.bytes(TestModels.BREAST_CANCER_V2);
    byte[] tiny = TestModels.bytes(TestModels.TINY);
    byte[] mixed = TestModels.bytes(TestModels.MIXED_INPUTS);
    List<byte[]> models = List.of(v1, v2, tiny, mixed);
    List<String> names = List.of("breast-cancer-v1", "breast-cancer-v2", "tiny", "mixed-inputs");
    List<Named<byte[]>> out = new ArrayList<>();
    for (int n : new int[] {1, 2, 3, 7}) {
      out.add(Named.of("v2 cut to " + n + " bytes", Arrays.copyOf(v2, n)));
    }
    for (int i = 1; i <= 36; i++) {
      int n = (int) ((long) v2.length * i / 37);
      out.add(Named.of("v2 cut to " + n + " of " + v2.length + " bytes", Arrays.copyOf(v2, n)));
    }
    for (int i = 1; i <= 10; i++) {
      int n = tiny.length * i / 11;
      out.add(
          Named.of("tiny cut to " + n + " of " + tiny.length + " bytes", Arrays.copyOf(tiny, n)));
    }
    Random single = new Random(20260301L);
    for (int i = 0; i < 30; i++) {
      int m = single.nextInt(models.size());
      byte[] b = models.get(m).clone();
      int pos = single.nextInt(b.length);
      int bit = single.nextInt(8);
      b[pos] ^= (byte) (1 << bit);
      out.add(Named.of(names.get(m) + " with bit " + bit + " of byte " + pos + " flipped", b));
    }
    Random multi = new Random(77L);
    for (int i = 0; i < 20; i++) {
      int m = multi.nextInt(models.size());
      byte[] b = models.get(m).clone();
      for (int k = 0; k < 8; k++) {
        b[multi.nextInt(b.length)] ^= (byte) (1 << multi.nextInt(8));
      }
      out.add(Named.of(names.get(m) + " with 8 random bit flips (#" + i + ")", b));
    }
    out.add(Named.of("empty file", new byte[0]));
    Random random = new Random(4096L);
    for (int size : new int[] {1, 7, 100, 4096, 65536}) {
      byte[] b = new byte[size];
      random.nextBytes(b);
      out.add(Named.of(size + " random bytes", b));
    }
    out.add(Named.of("1 KiB of zero bytes", new byte[1024]));
    byte[] ones = new byte[1024];
    Arrays.fill(ones, (byte) 0xFF);
    out.add(Named.of("1 KiB of 0xFF bytes", ones));
    out.add(
        Named.of("gzip header", new byte[] {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3}));
    out.add(
        Named.of("zip header", "PK\u0003\u0004 not a zip".getBytes(StandardCharsets.ISO_8859_1)));
    out.add(
        Named.of(
            "JSON text", "{\"model\": \"onnx\", \"graph\": []}".getBytes(StandardCharsets.UTF_8)));
    out.add(
        Named.of(
            "ONNX text format",
            "ir_version: 8\ngraph { name: \"g\" }\n".getBytes(StandardCharsets.UTF_8)));
    byte[] twice = new byte[v1.length * 2];
    System.arraycopy(v1, 0, twice, 0, v1.length);
    System.arraycopy(v1, 0, twice, v1.length, v1.length);
    out.add(Named.of("v1 written twice (protobuf merges the graphs)", twice));
    BrokenModels.all()
        .forEach((name, bytes) -> out.add(Named.of("valid protobuf: " + name, bytes)));
    return out;
  }

  @Order(1)
  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void badArtifactGetsATypedErrorAndChangesNothing(String name, byte[] content) throws Exception {
    int n = tried.incrementAndGet();
    Path dir = Files.createDirectories(tmp.resolve("bad-" + n));
    Path file = Files.write(dir.resolve("model.onnx"), content);
    SortedMap<String, String> before = snapshot(LocalModelRegistry.root(registry).orElseThrow());
    byte[] auditBefore =
        Files.readAllBytes(LocalModelRegistry.root(registry).orElseThrow().resolve("audit.log"));
    List<Long> versionsBefore = numbers();

    Throwable error = null;
    ModelVersion registered = null;
    try (InputStream in = new ByteArrayInputStream(content)) {
      ArtifactSource source =
          switch (n % 3) {
            case 0 -> ArtifactSource.file(file);
            case 1 -> ArtifactSource.stream(in, "model.onnx");
            default -> ArtifactSource.directory(dir, "model.onnx");
          };
      registered = registry.register(Registration.builder("cancer", source).build(), FUZZ);
    } catch (Throwable t) {
      error = t;
    }

    assertThat(stagingEntries(LocalModelRegistry.root(registry).orElseThrow())).isEmpty();
    assertThat(engine.live())
        .as("sessions left open by the registry")
        .isEqualTo(mlops.sessionStats().loaded());
    assertThat(registry.aliases("cancer")).isEqualTo(aliases);
    if (error != null) {
      assertThat(error).as("a typed error").isInstanceOf(ModelLoadException.class);
      assertThat(error.getMessage()).contains("model.onnx");
      assertThat(snapshot(LocalModelRegistry.root(registry).orElseThrow()))
          .as("registry directory, file by file")
          .isEqualTo(before);
      rejected.incrementAndGet();
      errorTypes.merge(kind(error), 1, Integer::sum);
    } else {
      // A flip that still makes a valid model: registered completely, nothing else touched.
      synchronized (accepted) {
        accepted.add(name + " -> " + registered.ref());
      }
      assertThat(numbers()).containsExactlyElementsOf(concat(versionsBefore, registered.version()));
      assertThat(dev.mlops.runtime.testing.Stored.verifiedModelBytes(registry, registered))
          .isNotEmpty();
      SortedMap<String, String> after = snapshot(LocalModelRegistry.root(registry).orElseThrow());
      before.forEach(
          (path, sha) -> {
            if (!path.equals("audit.log")) {
              assertThat(after).as(path).containsEntry(path, sha);
            }
          });
      String newDir = "models/cancer/" + registered.version();
      String newFiles = "artifacts/" + registered.digest();
      assertThat(after.keySet())
          .allSatisfy(
              p ->
                  assertThat(
                          before.containsKey(p) || p.startsWith(newDir) || p.startsWith(newFiles))
                      .as(p)
                      .isTrue());
      byte[] auditAfter =
          Files.readAllBytes(LocalModelRegistry.root(registry).orElseThrow().resolve("audit.log"));
      assertThat(Arrays.copyOf(auditAfter, auditBefore.length)).isEqualTo(auditBefore);
    }
    assertThat(prod.predict(ROW).value()).isEqualTo(baseline);
  }

  private static String kind(Throwable e) {
    String m = e.getMessage();
    if (m.contains("is empty")) {
      return "empty";
    }
    if (m.contains("not a valid ONNX protobuf")) {
      return "refused by the protobuf pre-scan";
    }
    if (m.contains("ONNX Runtime cannot load")) {
      return "refused by ONNX Runtime";
    }
    return e.getClass().getSimpleName();
  }

  private List<Long> numbers() {
    return registry.versions("cancer").stream()
        .map(ModelVersion::version)
        .collect(Collectors.toList());
  }

  private static List<Long> concat(List<Long> list, long n) {
    List<Long> out = new ArrayList<>(list);
    out.add(n);
    return out;
  }

  /** The same bad bytes written over a registered version's file: never loaded, nothing leaks. */
  @Order(2)
  @Test
  void storedVersionOverwrittenWithBadBytesIsNeverLoadedByTheRuntime() throws Exception {
    Path good =
        TestModels.copy(TestModels.BREAST_CANCER_V2, Files.createDirectories(tmp.resolve("good")));
    ModelVersion victim =
        registry.register(Registration.builder("cancer", ArtifactSource.file(good)).build(), FUZZ);
    Path stored = dev.mlops.runtime.testing.Stored.modelFile(registry, victim);
    byte[] original = Files.readAllBytes(stored);
    Mlops.SessionStats statsBefore = mlops.sessionStats();
    int attempts = 0;
    for (Named<byte[]> bad : badArtifacts().subList(0, 60)) {
      Files.write(stored, bad.getPayload());
      assertThatThrownBy(() -> mlops.predictor(victim.ref(), Codecs.floatRow()).close())
          .as(bad.getName())
          .isInstanceOf(IntegrityException.class)
          .hasMessageContaining("models:/cancer/" + victim.version());
      attempts++;
    }
    Files.write(stored, original);
    try (Predictor<float[], float[]> p = mlops.predictor(victim.ref(), Codecs.floatRow())) {
      assertThat(p.predict(ROW).value()).hasSize(2);
    }
    assertThat(attempts).isEqualTo(60);
    assertThat(mlops.sessionStats().opened())
        .as("sessions opened")
        .isEqualTo(statsBefore.opened() + 1);
    assertThat(prod.predict(ROW).value()).isEqualTo(baseline);
  }

  @Order(3)
  @Test
  void afterEveryBadArtifactTheRegistryAliasesAndRuntimeAreIntact() {
    int total = tried.get();
    LOG.info(
        "corrupt model suite: {} bad artifacts tried, {} refused with a typed error {}, {} still valid and "
            + "registered completely {}",
        total,
        rejected.get(),
        errorTypes,
        accepted.size(),
        accepted);
    assertThat(total).isEqualTo(badArtifacts().size()).isGreaterThanOrEqualTo(100);
    assertThat(rejected.get() + accepted.size()).isEqualTo(total);
    assertThat(rejected.get()).isGreaterThanOrEqualTo(100);
    assertThat(registry.aliases("cancer")).isEqualTo(aliases);
    for (ModelVersion v : registry.versions("cancer")) {
      assertThat(dev.mlops.runtime.testing.Stored.verifiedModelBytes(registry, v))
          .as(v.ref().toString())
          .isNotEmpty();
    }
    assertThat(prod.predict(ROW).value()).isEqualTo(baseline);
    assertThat(prod.servingVersion()).hasValueSatisfying(v -> assertThat(v.version()).isEqualTo(1));
    prod.close();
    prod = null;
    mlops.close();
    Mlops.SessionStats stats = mlops.sessionStats();
    mlops = null;
    assertThat(stats.closed()).as("sessions closed").isEqualTo(stats.opened());
    assertThat(engine.live()).as("engine sessions open").isZero();
    assertThat(engine.opened.get()).isEqualTo(engine.closed.get());
  }
}
