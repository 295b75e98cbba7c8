package dev.mlops.runtime.attacks;

import static dev.mlops.runtime.local.RegistryTestSupport.snapshot;
import static dev.mlops.runtime.local.RegistryTestSupport.stagingEntries;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.Registration;
import dev.mlops.api.RegistryException;
import dev.mlops.runtime.local.LocalModelRegistry;
import dev.mlops.runtime.local.RegistryTestSupport.ChildJvm;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.runtime.testing.Decoys;
import dev.mlops.testmodels.TestModels;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.SortedMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An incomplete version must never be committed. Another process opening the registry (as a second
 * container on the same volume does, where the writer's pid means nothing) must leave a live
 * registration's staging entry alone; and a registration whose staged files vanish before the
 * commit is refused, with the registry unchanged.
 */
class Finding05IncompleteVersionTest {

  private static final AuditInfo ALICE = AuditInfo.by("alice", "release");
  private static final Duration CHILD_TIMEOUT = Duration.ofSeconds(60);

  @TempDir Path tmp;

  @Test
  void anotherProcessOpeningTheRegistryLeavesALiveRegistrationsStagingAlone() throws Exception {
    Decoys decoys = Decoys.in(tmp.resolve("outside"));
    Path root = tmp.resolve("reg");
    Path file = TestModels.copy(TestModels.BREAST_CANCER_V1, tmp.resolve("src"));
    try (GovernedRegistry registry = LocalModelRegistry.open(root)) {
      registry.register(Registration.builder("cancer", ArtifactSource.file(file)).build(), ALICE);
    }
    try (ChildJvm writer =
        ChildJvm.start(tmp, "writer", "stall", root.toString(), "cancer", "262144")) {
      writer.awaitLine("STAGING", CHILD_TIMEOUT);
      List<String> live = stagingEntries(root);
      assertThat(live).singleElement().asString().startsWith("registrations/");

      // Opening runs the cleanup of abandoned entries: the writer holds its entry's lock.
      for (int i = 0; i < 3; i++) {
        try (GovernedRegistry other = LocalModelRegistry.open(root)) {
          assertThat(stagingEntries(root)).containsExactlyElementsOf(live);
          assertThat(other.versions("cancer"))
              .extracting(ModelVersion::version)
              .containsExactly(1L);
        }
      }
      writer.kill();
    }
    // Once the writer is gone its entry is abandoned, and the next open removes it.
    try (GovernedRegistry registry = LocalModelRegistry.open(root)) {
      assertThat(stagingEntries(root)).isEmpty();
      assertThat(registry.versions("cancer")).hasSize(1);
    }
    decoys.assertUntouched();
  }

  @Test
  void registrationWhoseStagedFilesVanishBeforeTheCommitIsRefused() throws Exception {
    Decoys decoys = Decoys.in(tmp.resolve("outside"));
    Path root = tmp.resolve("reg");
    byte[] model = TestModels.bytes(TestModels.BREAST_CANCER_V1);
    try (GovernedRegistry registry = LocalModelRegistry.open(root)) {
      registry.register(
          Registration.builder(
                  "cancer", ArtifactSource.stream(new ByteArrayInputStream(model), "m.onnx"))
              .build(),
          ALICE);
      SortedMap<String, String> before = snapshot(root);

      // The source's last read removes the staging entry being written, as a process that took
      // it for abandoned would.
      InputStream source =
          new InputStream() {
            private final InputStream in = new ByteArrayInputStream(model);

            @Override
            public int read() throws IOException {
              byte[] one = new byte[1];
              return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
              int n = in.read(b, off, len);
              if (n < 0) {
                removeStaging(root);
              }
              return n;
            }
          };
      assertThatThrownBy(
              () ->
                  registry.register(
                      Registration.builder("cancer", ArtifactSource.stream(source, "m.onnx"))
                          .build(),
                      ALICE))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("cannot register a version of 'cancer'")
          .hasMessageContaining("m.onnx");

      assertThat(registry.versions("cancer")).extracting(ModelVersion::version).containsExactly(1L);
      assertThat(stagingEntries(root)).isEmpty();
      assertThat(snapshot(root)).isEqualTo(before);
    }
    decoys.assertUntouched();
  }

  private static void removeStaging(Path root) {
    Path registrations = root.resolve("staging").resolve("registrations");
    try (Stream<Path> walk = Files.walk(registrations)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        if (!p.equals(registrations)) {
          Files.deleteIfExists(p);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
