package dev.mlops.runtime.attacks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.ModelNotFoundException;
import dev.mlops.api.Registration;
import dev.mlops.api.RegistryException;
import dev.mlops.runtime.local.LocalModelRegistry;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.runtime.testing.Decoys;
import dev.mlops.testmodels.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Writes outside the registry root through links planted in it: the audit log, the state file and
 * its temporary, the lock file and a model directory. Each is a typed {@link RegistryException},
 * and nothing outside the root changes, nor is created.
 */
class Finding02SymlinkWriteTest {

  /** A reason that runs code if it lands in a shell rc file. */
  private static final AuditInfo MALLORY =
      AuditInfo.by("mallory", "$(touch /tmp/mlops-pwned) release");

  @TempDir Path tmp;
  private Decoys decoys;
  private Path root;
  private Path v1;

  @BeforeEach
  void registryWithTwoVersions() throws Exception {
    decoys = Decoys.in(tmp.resolve("outside"));
    root = tmp.resolve("reg");
    v1 = TestModels.copy(TestModels.BREAST_CANCER_V1, tmp.resolve("src"));
    try (GovernedRegistry registry = LocalModelRegistry.open(root)) {
      registry.register(Registration.builder("cancer", ArtifactSource.file(v1)).build(), MALLORY);
      registry.register(Registration.builder("cancer", ArtifactSource.file(v1)).build(), MALLORY);
      registry.setAlias("cancer", "production", 1, MALLORY);
    }
  }

  @Test
  void auditLogLinkedToAFileOutsideIsRefusedAtOpen() throws Exception {
    Files.delete(root.resolve("audit.log"));
    Files.createSymbolicLink(root.resolve("audit.log"), decoys.file(".bashrc"));

    assertThatThrownBy(() -> LocalModelRegistry.open(root))
        .isInstanceOf(RegistryException.class)
        .hasMessageContaining("audit.log");
    decoys.assertUntouched();
  }

  @Test
  void auditLogLinkedWhileTheRegistryIsOpenRefusesTheChangeAndAppliesNothing() throws Exception {
    try (GovernedRegistry registry = LocalModelRegistry.open(root)) {
      Files.move(root.resolve("audit.log"), tmp.resolve("audit.log.saved"));
      Files.createSymbolicLink(root.resolve("audit.log"), decoys.file(".bashrc"));

      assertThatThrownBy(() -> registry.setAlias("cancer", "production", 2, MALLORY))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("audit.log");
      assertThatThrownBy(
              () ->
                  registry.register(
                      Registration.builder("cancer", ArtifactSource.file(v1)).build(), MALLORY))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("audit.log");
      assertThat(registry.aliases("cancer")).isEqualTo(Map.of("production", 1L));
      assertThat(registry.versions("cancer")).hasSize(2);
    }
    decoys.assertUntouched();
    assertThat(Path.of("/tmp/mlops-pwned")).doesNotExist();
  }

  @Test
  void plantedTemporaryNamesOfTheStateFileAreNeverWrittenThrough() throws Exception {
    Path model = root.resolve("models").resolve("cancer");
    long pid = ProcessHandle.current().pid();
    // The names a writer that derives its temporary from its pid would use.
    for (String name :
        new String[] {".state.json.tmp-" + pid, "state.json.tmp-" + pid, "state.json.tmp"}) {
      Files.createSymbolicLink(model.resolve(name), decoys.file(".bashrc"));
    }
    try (GovernedRegistry registry = LocalModelRegistry.open(root)) {
      for (int i = 0; i < 20; i++) {
        registry.setAlias("cancer", "production", 1 + (i % 2), MALLORY);
      }
      assertThat(registry.aliases("cancer")).isEqualTo(Map.of("production", 2L));
    }
    decoys.assertUntouched();
  }

  @Test
  void stateFileLinkedToAFileOutsideIsRefusedAndNothingIsWritten() throws Exception {
    Path state = root.resolve("models").resolve("cancer").resolve("state.json");
    Files.delete(state);
    Files.createSymbolicLink(state, decoys.file(".bashrc"));

    try (GovernedRegistry registry = LocalModelRegistry.open(root)) {
      assertThatThrownBy(() -> registry.setAlias("cancer", "production", 2, MALLORY))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("state.json");
      assertThatThrownBy(() -> registry.aliases("cancer"))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("state.json");
    }
    decoys.assertUntouched();
  }

  @Test
  void danglingLockLinkIsRefusedAtOpenAndItsTargetIsNotCreated() throws Exception {
    Path target = decoys.absent("created-by-open");
    Files.delete(root.resolve(".lock"));
    Files.createSymbolicLink(root.resolve(".lock"), target);

    assertThatThrownBy(() -> LocalModelRegistry.open(root))
        .isInstanceOf(RegistryException.class)
        .hasMessageContaining(".lock");
    assertThat(target).doesNotExist();
    decoys.assertUntouched();
  }

  @Test
  void modelDirectoryLinkedOutsideIsRefusedAndNothingIsWrittenThere() throws Exception {
    Path model = root.resolve("models").resolve("cancer");
    Files.move(model, tmp.resolve("cancer-moved"));
    Files.createSymbolicLink(model, decoys.dir());

    try (GovernedRegistry registry = LocalModelRegistry.open(root)) {
      // A link is not a model directory: the registry does not see a model there.
      assertThat(registry.models()).isEmpty();
      assertThatThrownBy(() -> registry.setAlias("cancer", "production", 2, MALLORY))
          .isInstanceOf(ModelNotFoundException.class);
      assertThatThrownBy(
              () ->
                  registry.register(
                      Registration.builder("cancer", ArtifactSource.file(v1)).build(), MALLORY))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("cancer");
    }
    decoys.assertUntouched();
  }
}
