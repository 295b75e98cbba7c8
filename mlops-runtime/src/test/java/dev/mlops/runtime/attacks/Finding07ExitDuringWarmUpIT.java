package dev.mlops.runtime.attacks;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A JVM that exits while a warm-up runs {@code loop-forever.onnx} inside ONNX Runtime exits with
 * its own exit code and no crash: without the runtime's shutdown hook, and with it ({@code
 * closeOnShutdown()}). ONNX Runtime's Java binding frees its environment from a shutdown hook of
 * its own; before the engine held a reference on it, this crashed the JVM with SIGSEGV every time.
 * Each variant runs several child JVMs, since a race would show only in some.
 */
class Finding07ExitDuringWarmUpIT {

  private static final int RUNS = 5;

  @TempDir Path tmp;

  @ParameterizedTest
  @ValueSource(strings = {"close-on-shutdown", "plain"})
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void exitingDuringAHungWarmUpDoesNotCrashTheJvm(String mode) throws Exception {
    for (int run = 1; run <= RUNS; run++) {
      Path dir = tmp.resolve(mode + "-" + run);
      Files.createDirectories(dir);
      Path out = dir.resolve("child.out");
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      Process child =
          new ProcessBuilder(
                  java,
                  "-XX:ErrorFile=" + dir.resolve("hs_err_pid%p.log"),
                  "-cp",
                  System.getProperty("java.class.path"),
                  ExitDuringWarmUpChild.class.getName(),
                  dir.resolve("scratch").toString(),
                  mode)
              .directory(dir.toFile())
              .redirectErrorStream(true)
              .redirectOutput(out.toFile())
              .start();
      boolean exited = child.waitFor(120, TimeUnit.SECONDS);
      if (!exited) {
        child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
      String transcript = Files.readString(out, StandardCharsets.UTF_8);
      assertThat(exited).as("run %d exited; output:%n%s", run, transcript).isTrue();
      assertThat(transcript)
          .as("run %d", run)
          .contains("EXITING with 1 load(s) in flight")
          .doesNotContain("SIGSEGV")
          .doesNotContain("A fatal error has been detected");
      assertThat(child.exitValue()).as("run %d exit code; output:%n%s", run, transcript).isZero();
      assertThat(crashReports(dir)).as("run %d crash reports", run).isEmpty();
    }
  }

  private static List<Path> crashReports(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(f -> f.getFileName().toString().startsWith("hs_err")).toList();
    }
  }
}
