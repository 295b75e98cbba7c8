package dev.mlops.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A million predictions, each on a new virtual thread, in a child JVM on a JDK 21 or newer: no call
 * fails, the live direct buffers stay within the pinned-tensor pool plus a constant, and the
 * resident set levels off. The JDK is {@code $MLOPS_JAVA21}, else this JVM if it is 21 or newer,
 * else the newest under {@code /usr/lib/jvm}; without one the test is skipped and says so.
 */
class VirtualThreadIT {

  private static final Logger LOG = LoggerFactory.getLogger(VirtualThreadIT.class);
  private static final int CALLS = 1_000_000;

  @TempDir Path tmp;

  @Test
  void aMillionCallsEachOnANewVirtualThreadAllocateNoDirectBufferPerCall() throws Exception {
    Optional<Path> java = java21();
    Assumptions.assumeTrue(
        java.isPresent(),
        "skipped: no JDK 21 or newer found (set MLOPS_JAVA21 to its bin/java, or install one under"
            + " /usr/lib/jvm); virtual threads need one");
    Path argfile = tmp.resolve("cp.args");
    // The class path through an @argfile: ONNX Runtime crashes on a command line of 4 KB or more.
    Files.writeString(
        argfile,
        "-cp \"" + System.getProperty("java.class.path").replace("\\", "\\\\") + "\"\n",
        StandardCharsets.UTF_8);
    Path out = tmp.resolve("child.out");
    Process child =
        new ProcessBuilder(
                java.get().toString(),
                "-Xmx512m",
                "@" + argfile,
                VirtualThreadCalls.class.getName(),
                tmp.resolve("scratch").toString(),
                Integer.toString(CALLS),
                "64")
            .redirectErrorStream(true)
            .redirectOutput(out.toFile())
            .start();
    boolean exited = child.waitFor(10, TimeUnit.MINUTES);
    if (!exited) {
      child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
    String transcript =
        String.join(
            System.lineSeparator(), lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    assertThat(exited).as("finished within 10 minutes").isTrue();
    assertThat(child.exitValue()).as(transcript).isZero();
    String result =
        lines.stream()
            .filter(l -> l.startsWith("RESULT "))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no RESULT line:\n" + transcript));
    LOG.info("virtual threads on {}: {}", java.get(), result);
    Files.writeString(Path.of("target", "virtual-threads.txt"), result + "\n");
    assertThat(number(result, "calls")).isEqualTo(CALLS);
    assertThat(number(result, "virtual")).as("calls on virtual threads").isEqualTo(CALLS);
    assertThat(number(result, "failures")).isZero();
    long pool = Math.max(8, 2L * Runtime.getRuntime().availableProcessors());
    assertThat(number(result, "directMax") - number(result, "directBefore"))
        .as("direct buffers made during the calls")
        .isLessThanOrEqualTo(pool + 16);
    List<Long> rss = new ArrayList<>();
    Matcher m = Pattern.compile("rssKiB=\\[([0-9, ]+)]").matcher(result);
    assertThat(m.find()).as(result).isTrue();
    for (String s : m.group(1).split(",\\s*")) {
      rss.add(Long.parseLong(s));
    }
    assertThat(rss).hasSize(10);
    long half = rss.get(4);
    long latest = rss.stream().skip(5).mapToLong(Long::longValue).max().orElseThrow();
    assertThat(latest - half)
        .as("resident set growth over the second half, KiB")
        .isLessThan(65_536);
  }

  private static long number(String result, String key) {
    Matcher m = Pattern.compile("\\b" + key + "=(-?\\d+)").matcher(result);
    if (!m.find()) {
      throw new AssertionError("no " + key + " in " + result);
    }
    return Long.parseLong(m.group(1));
  }

  /** A java launcher of release 21 or newer, if this machine has one. */
  static Optional<Path> java21() throws IOException {
    String env = System.getenv("MLOPS_JAVA21");
    if (env != null && !env.isBlank()) {
      return Optional.of(Path.of(env));
    }
    if (Runtime.version().feature() >= 21) {
      return Optional.of(Path.of(System.getProperty("java.home"), "bin", "java"));
    }
    Path jvms = Path.of("/usr/lib/jvm");
    if (!Files.isDirectory(jvms)) {
      return Optional.empty();
    }
    Path best = null;
    int bestRelease = 0;
    try (Stream<Path> homes = Files.list(jvms)) {
      for (Path home : homes.toList()) {
        Path launcher = home.resolve("bin").resolve("java");
        int release = release(home);
        if (release >= 21 && release > bestRelease && Files.isExecutable(launcher)) {
          best = launcher;
          bestRelease = release;
        }
      }
    }
    return Optional.ofNullable(best);
  }

  /** The feature release in a JDK's {@code release} file, 0 if unknown. */
  private static int release(Path home) {
    Path file = home.resolve("release");
    if (!Files.isRegularFile(file)) {
      return 0;
    }
    try {
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        Matcher m = Pattern.compile("^JAVA_VERSION=\"(\\d+)").matcher(line);
        if (m.find()) {
          return Integer.parseInt(m.group(1));
        }
      }
    } catch (IOException e) {
      return 0;
    }
    return 0;
  }
}
