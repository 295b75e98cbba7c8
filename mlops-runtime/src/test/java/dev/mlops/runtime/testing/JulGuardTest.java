package dev.mlops.runtime.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.AuditInfo;
import dev.mlops.api.Codecs;
import dev.mlops.api.IntegrityException;
import dev.mlops.api.Registration;
import dev.mlops.runtime.Mlops;
import dev.mlops.testmodels.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.event.Level;

class JulGuardTest {

  @TempDir Path tmp;

  @Test
  void theGuardTakesJulRecordsOfTheLibraryAndOfCaffeineOnly() {
    java.util.logging.Logger.getLogger("dev.mlops.runtime.Probe")
        .warning("a library line through JUL");
    java.util.logging.Logger.getLogger("com.github.benmanes.caffeine.cache.Probe")
        .warning("a Caffeine line");
    java.util.logging.Logger.getLogger("ai.onnxruntime.Probe")
        .warning("ONNX Runtime's own, not guarded");
    assertThat(JulGuard.drain())
        .extracting(LogRecord::getLoggerName)
        .containsExactly("dev.mlops.runtime.Probe", "com.github.benmanes.caffeine.cache.Probe");
    assertThat(JulGuard.drain()).isEmpty();
  }

  @Test
  void aFailedLoadIsLoggedThroughSlf4jOnly() throws Exception {
    CapturedLogs.clear();
    try (Mlops mlops = Mlops.builder().localRegistry(tmp.resolve("registry")).build()) {
      mlops
          .registry()
          .register(
              Registration.builder(
                      "tiny", ArtifactSource.file(TestModels.copy(TestModels.TINY, tmp)))
                  .build(),
              AuditInfo.by("ci", "test"));
      Path file = Stored.modelFile(mlops.registry(), mlops.registry().versions("tiny").get(0));
      Files.write(file, new byte[] {1}, StandardOpenOption.APPEND);
      // Twice: a waiter on a failed load in flight must not make Caffeine log either.
      for (int i = 0; i < 2; i++) {
        assertThatThrownBy(() -> mlops.predictor("models:/tiny/1", Codecs.floatRow()))
            .isInstanceOf(IntegrityException.class);
      }
    }
    assertThat(JulGuard.drain()).isEmpty();
    assertThat(CapturedLogs.lines(Level.WARN, "dev.mlops.runtime.SessionCache"))
        .extracting(CapturedLogs.Line::message)
        .allMatch(m -> m.startsWith("cannot load models:/tiny/1: "))
        .hasSize(2);
  }
}
