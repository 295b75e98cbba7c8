package dev.mlops.runtime.attacks;

import static dev.mlops.runtime.local.RegistryTestSupport.snapshot;
import static dev.mlops.runtime.local.RegistryTestSupport.stagingEntries;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditAction;
import dev.mlops.api.AuditEntry;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Registration;
import dev.mlops.api.RegistryException;
import dev.mlops.runtime.local.LocalModelRegistry;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.runtime.testing.Decoys;
import dev.mlops.testmodels.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A change is applied only with its audit entry: an audit log replaced by a directory or a FIFO is
 * a typed {@link RegistryException} at open or before the change, nothing is applied and nothing
 * blocks; a change whose entry cannot be appended changes nothing.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class Finding06AuditAppendTest {

  private static final AuditInfo ALICE = AuditInfo.by("alice", "release");

  @TempDir Path tmp;
  private Decoys decoys;
  private Path root;
  private Path file;

  @BeforeEach
  void registryWithTwoVersions() throws Exception {
    decoys = Decoys.in(tmp.resolve("outside"));
    root = tmp.resolve("reg");
    file = TestModels.copy(TestModels.BREAST_CANCER_V1, tmp.resolve("src"));
    try (GovernedRegistry registry = LocalModelRegistry.open(root)) {
      registry.register(Registration.builder("cancer", ArtifactSource.file(file)).build(), ALICE);
      registry.register(Registration.builder("cancer", ArtifactSource.file(file)).build(), ALICE);
      registry.setAlias("cancer", "production", 1, ALICE);
    }
  }

  private void replaceAuditLog(String kind) throws Exception {
    Path log = root.resolve("audit.log");
    Files.move(log, tmp.resolve("audit.log.saved"));
    if (kind.equals("directory")) {
      Files.createDirectory(log);
    } else {
      Process mkfifo = new ProcessBuilder("mkfifo", log.toString()).inheritIO().start();
      assertThat(mkfifo.waitFor()).isZero();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"directory", "fifo"})
  void auditLogReplacedBeforeOpenIsRefusedAtOpen(String kind) throws Exception {
    replaceAuditLog(kind);
    assertThatThrownBy(() -> LocalModelRegistry.open(root))
        .isInstanceOf(RegistryException.class)
        .hasMessageContaining("audit.log");
    decoys.assertUntouched();
  }

  @ParameterizedTest
  @ValueSource(strings = {"directory", "fifo"})
  void auditLogReplacedWhileOpenStopsEveryChangeBeforeItStarts(String kind) throws Exception {
    try (GovernedRegistry registry = LocalModelRegistry.open(root)) {
      replaceAuditLog(kind);
      SortedMap<String, String> before = snapshotWithoutLog();

      assertThatThrownBy(() -> registry.setAlias("cancer", "production", 2, ALICE))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("audit.log");
      assertThatThrownBy(
              () ->
                  registry.register(
                      Registration.builder("cancer", ArtifactSource.file(file)).build(), ALICE))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("audit.log");
      assertThatThrownBy(() -> registry.deleteAlias("cancer", "production", ALICE))
          .isInstanceOf(RegistryException.class);
      // Reading the log neither hangs on a FIFO nor returns nothing as if the log were empty.
      assertThatThrownBy(registry::auditLog)
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("audit.log");

      assertThat(registry.aliases("cancer")).isEqualTo(Map.of("production", 1L));
      assertThat(registry.versions("cancer")).hasSize(2);
      assertThat(snapshotWithoutLog()).isEqualTo(before);
      assertThat(stagingEntries(root)).isEmpty();
    }
    decoys.assertUntouched();
  }

  @Test
  void changeWhoseEntryCannotBeAppendedChangesNothing() throws Exception {
    // An entry longer than the log's reader accepts is refused by the log, after the change ran.
    AuditInfo huge = AuditInfo.by("alice", "x".repeat(17 << 20));
    try (GovernedRegistry registry = LocalModelRegistry.open(root)) {
      List<AuditEntry> log = registry.auditLog();

      assertThatThrownBy(() -> registry.setAlias("cancer", "production", 2, huge))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining(
              "nothing was changed because the change's audit entry could not be written");
      assertThatThrownBy(() -> registry.setAlias("cancer", "staging", 2, huge))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("nothing was changed");
      assertThatThrownBy(
              () ->
                  registry.register(
                      Registration.builder("cancer", ArtifactSource.file(file)).build(), huge))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("nothing was changed");
      assertThatThrownBy(() -> registry.archive("cancer", 2, huge))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("nothing was changed");

      assertThat(registry.aliases("cancer")).isEqualTo(Map.of("production", 1L));
      assertThat(registry.versions("cancer")).hasSize(2);
      assertThat(registry.auditLog()).isEqualTo(log);
      assertThat(stagingEntries(root)).isEmpty();
    }
    try (GovernedRegistry reopened = LocalModelRegistry.open(root)) {
      assertThat(reopened.aliases("cancer")).isEqualTo(Map.of("production", 1L));
      assertThat(reopened.versions("cancer")).hasSize(2);
      assertThat(
              reopened
                  .register(
                      Registration.builder("cancer", ArtifactSource.file(file)).build(), ALICE)
                  .version())
          .isEqualTo(3);
      assertThat(reopened.auditLog())
          .extracting(AuditEntry::action)
          .containsExactly(
              AuditAction.REGISTER,
              AuditAction.REGISTER,
              AuditAction.SET_ALIAS,
              AuditAction.REGISTER);
    }
    decoys.assertUntouched();
  }

  private SortedMap<String, String> snapshotWithoutLog() throws Exception {
    SortedMap<String, String> s = snapshot(root.resolve("models"));
    s.put("artifacts", snapshot(root.resolve("artifacts")).toString());
    return s;
  }
}
