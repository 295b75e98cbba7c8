package dev.mlops.runtime.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ONNX Runtime writes its log lines to the process's stderr, so only a child JVM shows what it
 * wrote. A failed run reaches the caller as a PredictionException; ONNX Runtime's own error line
 * for it is a duplicate that must not appear unless the session asks for INFO or VERBOSE lines.
 */
class NativeLogLevelIT {

  @TempDir Path tmp;

  /** A child's stdout and stderr lines. */
  private record Child(List<String> out, List<String> err) {
    List<String> nativeLines(String severity) {
      return err.stream().filter(l -> l.contains("[" + severity + ":onnxruntime:")).toList();
    }
  }

  private Child child(String level) throws Exception {
    Path dir = Files.createDirectories(tmp.resolve(level));
    Path out = dir.resolve("stdout.txt");
    Path err = dir.resolve("stderr.txt");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p =
        new ProcessBuilder(
                java,
                "-cp",
                System.getProperty("java.class.path"),
                NativeLogChild.class.getName(),
                dir.toString(),
                level)
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .start();
    boolean exited = p.waitFor(90, TimeUnit.SECONDS);
    if (!exited) {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    Child c =
        new Child(
            Files.readAllLines(out, StandardCharsets.UTF_8),
            Files.readAllLines(err, StandardCharsets.UTF_8));
    String transcript =
        "stdout:%n" + String.join("\n", c.out()) + "%nstderr:%n" + String.join("\n", c.err());
    assertThat(exited).as("child exited within 90 s; " + transcript).isTrue();
    assertThat(p.exitValue()).as("exit code; " + transcript).isZero();
    assertThat(c.out()).as(transcript).anyMatch(l -> l.startsWith("LOADED "));
    assertThat(c.out().stream().filter(l -> l.startsWith("FAILED ")).toList())
        .as("both runs fail, without and with a deadline; " + transcript)
        .hasSize(2)
        .allSatisfy(
            l ->
                assertThat(l)
                    .startsWith("FAILED ONNX Runtime failed to run the model: ")
                    .contains("Pad reflect requires axis length >= 2"));
    return c;
  }

  @Test
  void defaultsKeepLoadWarningsButWriteNoNativeErrorLineForAFailedRun() throws Exception {
    Child c = child("defaults");

    assertThat(c.nativeLines("E")).as("stderr: %s", c.err()).isEmpty();
    assertThat(c.nativeLines("W"))
        .as("the opset 5 model's load warning; stderr: %s", c.err())
        .anyMatch(l -> l.contains("opset version 7 or above"));
  }

  @Test
  void explicitWarningLevelBehavesAsTheDefaults() throws Exception {
    Child c = child("WARNING");

    assertThat(c.nativeLines("E")).as("stderr: %s", c.err()).isEmpty();
    assertThat(c.nativeLines("W"))
        .as("stderr: %s", c.err())
        .anyMatch(l -> l.contains("opset version 7 or above"));
  }

  @Test
  void fatalLevelSilencesLoadWarningsToo() throws Exception {
    Child c = child("FATAL");

    assertThat(c.nativeLines("E")).as("stderr: %s", c.err()).isEmpty();
    assertThat(c.nativeLines("W")).as("stderr: %s", c.err()).isEmpty();
  }

  @Test
  void verboseLevelWritesOnnxRuntimesErrorLineForEachFailedRun() throws Exception {
    Child c = child("VERBOSE");

    assertThat(c.nativeLines("E"))
        .as("one per run, without and with a deadline; stderr: %s", c.err())
        .filteredOn(l -> l.contains("Pad reflect requires axis length >= 2"))
        .hasSize(2);
    assertThat(c.nativeLines("V")).as("verbose lines").isNotEmpty();
  }
}
