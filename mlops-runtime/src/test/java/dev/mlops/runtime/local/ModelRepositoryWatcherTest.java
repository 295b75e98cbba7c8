package dev.mlops.runtime.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlops.api.ModelVersion;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.testmodels.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelRepositoryWatcherTest {

  @TempDir Path tmp;
  private Path repo;
  private GovernedRegistry registry;
  private final MutableClock clock = new MutableClock();

  @BeforeEach
  void setUp() throws Exception {
    repo = Files.createDirectories(tmp.resolve("repo"));
    registry = LocalModelRegistry.open(tmp.resolve("registry"));
  }

  @AfterEach
  void tearDown() {
    registry.close();
  }

  private ModelRepositoryWatcher watcher() {
    return ModelRepositoryWatcher.builder(repo, registry)
        .settleTime(Duration.ofSeconds(2))
        .clock(clock)
        .build();
  }

  private Path versionDir(String model, int n) throws Exception {
    return Files.createDirectories(repo.resolve(model).resolve(Integer.toString(n)));
  }

  @Test
  void completeVersionDirectoryIsImportedOnceItHasSettled() throws Exception {
    Files.write(
        versionDir("cancer", 1).resolve("model.onnx"),
        TestModels.bytes(TestModels.BREAST_CANCER_V1));
    ModelRepositoryWatcher w = watcher();
    assertThat(w.scanOnce()).isEmpty(); // first sight: settling
    clock.advance(Duration.ofSeconds(1));
    assertThat(w.scanOnce()).isEmpty();
    clock.advance(Duration.ofSeconds(1));
    List<ModelVersion> imported = w.scanOnce();
    assertThat(imported)
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.name()).isEqualTo("cancer");
              assertThat(v.version()).isEqualTo(1);
              assertThat(v.tags())
                  .containsEntry(ModelRepositoryWatcher.TAG_PATH, "cancer/1")
                  .containsEntry(ModelRepositoryWatcher.TAG_VERSION, "1");
            });
    clock.advance(Duration.ofSeconds(5));
    assertThat(w.scanOnce()).isEmpty();
    // A new watcher (a restart) finds the import by its tags and does not repeat it.
    ModelRepositoryWatcher again = watcher();
    again.scanOnce();
    clock.advance(Duration.ofSeconds(5));
    assertThat(again.scanOnce()).isEmpty();
    assertThat(registry.versions("cancer")).hasSize(1);
  }

  @Test
  void fileStillBeingWrittenIsNeverRegisteredHalfCopied() throws Exception {
    byte[] full = TestModels.bytes(TestModels.BREAST_CANCER_V2);
    Path file = versionDir("cancer", 3).resolve("model.onnx");
    ModelRepositoryWatcher w = watcher();
    int step = full.length / 4;
    for (int written = step; written < full.length; written += step) {
      Files.write(file, Arrays.copyOf(full, written));
      Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.from(clock.instant()));
      assertThat(w.scanOnce()).isEmpty();
      clock.advance(Duration.ofSeconds(1)); // the writer keeps writing faster than the settle time
    }
    Files.write(file, full);
    Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.from(clock.instant()));
    assertThat(w.scanOnce()).isEmpty();
    clock.advance(Duration.ofSeconds(3));
    List<ModelVersion> imported = w.scanOnce();
    String sha =
        HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(full));
    assertThat(imported)
        .singleElement()
        .satisfies(v -> assertThat(v.files().get(0).sha256()).isEqualTo(sha));
  }

  @Test
  void temporaryFilesHoldTheDirectoryBack() throws Exception {
    Path dir = versionDir("tiny", 1);
    Files.write(dir.resolve("model.onnx"), TestModels.bytes(TestModels.TINY));
    Files.write(dir.resolve("weights.bin.part"), new byte[10]);
    ModelRepositoryWatcher w = watcher();
    w.scanOnce();
    clock.advance(Duration.ofSeconds(10));
    assertThat(w.scanOnce()).isEmpty();
    Files.move(dir.resolve("weights.bin.part"), dir.resolve("weights.bin"));
    w.scanOnce();
    clock.advance(Duration.ofSeconds(3));
    assertThat(w.scanOnce())
        .singleElement()
        .satisfies(
            v ->
                assertThat(v.files())
                    .extracting(f -> f.path())
                    .containsExactly("model.onnx", "weights.bin"));
  }

  @Test
  void unloadableModelIsSkippedUntilItsFilesChange() throws Exception {
    Path file = versionDir("cancer", 1).resolve("model.onnx");
    Files.write(file, new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
    ModelRepositoryWatcher w = watcher();
    w.scanOnce();
    clock.advance(Duration.ofSeconds(3));
    assertThat(w.scanOnce()).isEmpty();
    clock.advance(Duration.ofSeconds(3));
    assertThat(w.scanOnce()).isEmpty();
    assertThat(registry.versions("cancer")).isEmpty();
    assertThat(registry.auditLog()).isEmpty();

    Files.write(file, TestModels.bytes(TestModels.BREAST_CANCER_V1));
    w.scanOnce();
    clock.advance(Duration.ofSeconds(3));
    assertThat(w.scanOnce()).hasSize(1);
  }

  @Test
  void versionsAreImportedInAscendingOrderAndJunkIsIgnored() throws Exception {
    Files.write(
        versionDir("cancer", 10).resolve("model.onnx"),
        TestModels.bytes(TestModels.BREAST_CANCER_V2));
    Files.write(
        versionDir("cancer", 2).resolve("model.onnx"),
        TestModels.bytes(TestModels.BREAST_CANCER_V1));
    Files.createDirectories(repo.resolve("cancer/latest"));
    Files.createDirectories(repo.resolve("bad name!/1"));
    ModelRepositoryWatcher w = watcher();
    w.scanOnce();
    clock.advance(Duration.ofSeconds(3));
    assertThat(w.scanOnce())
        .extracting(v -> v.tags().get(ModelRepositoryWatcher.TAG_VERSION) + "->" + v.version())
        .containsExactly("2->1", "10->2");
    assertThat(registry.models()).containsExactly("cancer");
  }

  /** A clock the test moves by hand. */
  static final class MutableClock extends Clock {
    private Instant now = Instant.parse("2026-11-27T10:00:00Z");

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }
}
