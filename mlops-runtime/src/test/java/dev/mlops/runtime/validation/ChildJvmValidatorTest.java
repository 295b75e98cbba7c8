package dev.mlops.runtime.validation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactLocation;
import dev.mlops.api.ModelLoadException;
import dev.mlops.runtime.onnx.BrokenModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The child-JVM validator turns a crash, a hang or a refusal in the child into a typed error here.
 */
class ChildJvmValidatorTest {

  @TempDir Path tmp;
  private ArtifactLocation artifact;

  @BeforeEach
  void model() throws Exception {
    Path file = Files.write(tmp.resolve("model.onnx"), BrokenModels.all().get("unknown operator"));
    artifact = new ArtifactLocation(tmp, file);
  }

  private static List<String> scratchDirs() throws Exception {
    try (Stream<Path> s = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
      return s.map(p -> p.getFileName().toString())
          .filter(n -> n.startsWith("mlops-validate-"))
          .sorted()
          .toList();
    }
  }

  @Test
  void childThatCrashesIsReportedWithItsExitCodeAndOutput() throws Exception {
    List<String> before = scratchDirs();
    long start = System.nanoTime();
    assertThatThrownBy(() -> TestValidators.crashing().validate(artifact))
        .isExactlyInstanceOf(ModelLoadException.class)
        .hasMessageStartingWith(
            "validation in a child JVM crashed: exit code 134 (signal 6) while opening model.onnx")
        .hasMessageContaining("SIGSEGV (simulated)");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(30));
    assertThat(scratchDirs()).isEqualTo(before);
  }

  @Test
  void childThatHangsIsKilledAtTheTimeout() throws Exception {
    List<String> before = scratchDirs();
    long start = System.nanoTime();
    assertThatThrownBy(() -> TestValidators.hanging(Duration.ofMillis(1500)).validate(artifact))
        .isExactlyInstanceOf(ModelLoadException.class)
        .hasMessageContaining("did not finish within PT1.5S; the child was killed");
    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .isBetween(Duration.ofMillis(1500), Duration.ofSeconds(20));
    assertThat(scratchDirs()).isEqualTo(before);
  }

  @Test
  void modelThatOnnxRuntimeRefusesIsRefusedWithTheChildsReason() {
    assertThatThrownBy(() -> ChildJvmValidator.defaults().validate(artifact))
        .isExactlyInstanceOf(ModelLoadException.class)
        .hasMessageContaining("ONNX Runtime cannot load")
        .hasMessageContaining("NoSuchOpAnywhere");
  }

  @Test
  void optionsAreSetOnce() {
    assertThatThrownBy(
            () ->
                ChildJvmValidator.builder()
                    .timeout(Duration.ofSeconds(1))
                    .timeout(Duration.ofSeconds(2)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("timeout was already set");
    assertThatThrownBy(() -> ChildJvmValidator.builder().timeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(ChildJvmValidator.defaults().timeout()).isEqualTo(Duration.ofSeconds(60));
  }
}
