package dev.mlops.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs {@link MemorySoak} (10,000 swaps, 1,000,000 predictions) in a child JVM with a fixed,
 * pre-touched heap. Takes minutes, so it runs only with {@code -Dmlops.soak=true}:
 *
 * <pre>
 * cd mlops-runtime && ../mvnw verify -Dmlops.soak=true -Dit.test=MemorySoakIT \
 *     -Dtest=NoSuchTest -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 */
@EnabledIfSystemProperty(named = "mlops.soak", matches = "true")
class MemorySoakIT {

  private static final Logger LOG = LoggerFactory.getLogger(MemorySoakIT.class);

  @TempDir Path tmp;

  @Test
  void tenThousandSwapsAndAMillionPredictionsLeaveResidentMemoryFlat() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Path out = tmp.resolve("soak.out");
    Process child =
        new ProcessBuilder(
                java,
                "-Xms256m",
                "-Xmx256m",
                "-XX:+AlwaysPreTouch",
                "-cp",
                System.getProperty("java.class.path"),
                MemorySoak.class.getName(),
                "10000",
                "1000000",
                tmp.resolve("soak").toString())
            .redirectErrorStream(true)
            .redirectOutput(out.toFile())
            .start();
    boolean exited = child.waitFor(30, TimeUnit.MINUTES);
    if (!exited) {
      child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
    // The table and the verdict, without the runtime's log lines.
    List<String> report =
        lines.stream()
            .filter(l -> l.matches("^(phase|warm-up|swaps|predictions|sessions|RESULT).*"))
            .toList();
    String table = String.join(System.lineSeparator(), report);
    LOG.info("memory soak:{}{}", System.lineSeparator(), table);
    Files.write(Path.of("target", "memory-soak.txt"), report, StandardCharsets.UTF_8);
    String transcript =
        String.join(
            System.lineSeparator(), lines.subList(Math.max(0, lines.size() - 60), lines.size()));
    assertThat(exited).as("soak finished within 30 minutes").isTrue();
    assertThat(report).as(transcript).anyMatch(l -> l.startsWith("RESULT pass "));
    assertThat(child.exitValue()).as(transcript).isZero();
  }
}
