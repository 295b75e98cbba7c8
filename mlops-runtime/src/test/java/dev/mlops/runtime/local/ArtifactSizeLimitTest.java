package dev.mlops.runtime.local;

import static dev.mlops.runtime.local.RegistryTestSupport.snapshot;
import static dev.mlops.runtime.local.RegistryTestSupport.stagingEntries;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.ArtifactTooLargeException;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Registration;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.testmodels.TestModels;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SortedMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The registry's artifact size limit: checked while copying, so nothing oversized is stored or even
 * fully read.
 */
class ArtifactSizeLimitTest {

  private static final AuditInfo ALICE = AuditInfo.by("alice", "size test");

  @TempDir Path tmp;

  private final long modelSize = TestModels.bytes(TestModels.BREAST_CANCER_V2).length;

  private GovernedRegistry open(long limit) {
    return LocalModelRegistry.builder(tmp.resolve("reg")).maxArtifactBytes(limit).build();
  }

  @Test
  void modelAtTheLimitIsAcceptedAndOneByteMoreIsRefusedNamingLimitAndSize() throws Exception {
    Path file = TestModels.copy(TestModels.BREAST_CANCER_V2, tmp);
    try (GovernedRegistry exact = open(modelSize)) {
      assertThat(
              exact
                  .register(Registration.builder("m", ArtifactSource.file(file)).build(), ALICE)
                  .sizeBytes())
          .isEqualTo(modelSize);
    }
    try (GovernedRegistry registry =
        LocalModelRegistry.builder(tmp.resolve("reg2")).maxArtifactBytes(modelSize - 1).build()) {
      SortedMap<String, String> before = snapshot(LocalModelRegistry.root(registry).orElseThrow());
      assertThatThrownBy(
              () ->
                  registry.register(
                      Registration.builder("m", ArtifactSource.file(file)).build(), ALICE))
          .isInstanceOfSatisfying(
              ArtifactTooLargeException.class,
              e -> {
                assertThat(e.limitBytes()).isEqualTo(modelSize - 1);
                assertThat(e.sizeBytes()).isEqualTo(modelSize);
              })
          .hasMessageContaining(
              "is "
                  + modelSize
                  + " bytes, over the registry's limit of "
                  + (modelSize - 1)
                  + " bytes");
      assertThat(snapshot(LocalModelRegistry.root(registry).orElseThrow())).isEqualTo(before);
      assertThat(registry.models()).isEmpty();
    }
  }

  @Test
  void externalDataCountsTowardsTheLimit() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("dir"));
    TestModels.copy(TestModels.BREAST_CANCER_V2, dir);
    Files.write(dir.resolve("weights.bin"), new byte[1000]);
    try (GovernedRegistry registry = open(modelSize + 999)) {
      SortedMap<String, String> before = snapshot(LocalModelRegistry.root(registry).orElseThrow());
      assertThatThrownBy(
              () ->
                  registry.register(
                      Registration.builder(
                              "m", ArtifactSource.directory(dir, TestModels.BREAST_CANCER_V2))
                          .build(),
                      ALICE))
          .isInstanceOfSatisfying(
              ArtifactTooLargeException.class,
              e -> assertThat(e.sizeBytes()).isEqualTo(modelSize + 1000));
      assertThat(snapshot(LocalModelRegistry.root(registry).orElseThrow())).isEqualTo(before);
      assertThat(stagingEntries(LocalModelRegistry.root(registry).orElseThrow())).isEmpty();
    }
  }

  @Test
  void endlessStreamIsCutOffJustPastTheLimit() throws Exception {
    long limit = 1_000_000;
    AtomicLong served = new AtomicLong();
    InputStream endless =
        new InputStream() {
          @Override
          public int read() {
            served.incrementAndGet();
            return 0x42;
          }

          @Override
          public int read(byte[] b, int off, int len) {
            java.util.Arrays.fill(b, off, off + len, (byte) 0x42);
            served.addAndGet(len);
            return len;
          }
        };
    try (GovernedRegistry registry = open(limit)) {
      SortedMap<String, String> before = snapshot(LocalModelRegistry.root(registry).orElseThrow());
      assertThatThrownBy(
              () ->
                  registry.register(
                      Registration.builder("m", ArtifactSource.stream(endless, "model.onnx"))
                          .build(),
                      ALICE))
          .isInstanceOfSatisfying(
              ArtifactTooLargeException.class,
              e -> {
                assertThat(e.limitBytes()).isEqualTo(limit);
                assertThat(e.sizeBytes()).isEqualTo(limit + 1);
              })
          .hasMessageContaining("at least " + (limit + 1) + " bytes (reading stopped there)");
      assertThat(served.get()).as("bytes taken from the stream").isEqualTo(limit + 1);
      assertThat(snapshot(LocalModelRegistry.root(registry).orElseThrow())).isEqualTo(before);
      assertThat(stagingEntries(LocalModelRegistry.root(registry).orElseThrow())).isEmpty();
    }
  }

  @Test
  void streamWithinTheLimitRegisters() throws Exception {
    try (GovernedRegistry registry = open(modelSize);
        InputStream in =
            new java.io.ByteArrayInputStream(TestModels.bytes(TestModels.BREAST_CANCER_V2))) {
      assertThat(
              registry
                  .register(
                      Registration.builder("m", ArtifactSource.stream(in, "m.onnx")).build(), ALICE)
                  .version())
          .isEqualTo(1);
    }
  }
}
