package dev.mlops.runtime.onnx;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Warns, before ONNX Runtime first loads, when the process's command line is long enough to crash
 * it: ONNX Runtime 1.29 on Linux kills the JVM with SIGSEGV while it creates its environment when
 * the command line reaches about 4 KB (a {@code java -cp} with a few dozen jars does), without a
 * JVM crash report. The warning is the last line such a process writes, and names the fix.
 */
final class CommandLineCheck {

  private static final Logger LOG = LoggerFactory.getLogger(CommandLineCheck.class);

  /** Command lines longer than this are warned about; the crash was seen from about 3,980. */
  static final int WARN_BYTES = 3_500;

  private static volatile boolean checked;

  private CommandLineCheck() {}

  /** Checks once per JVM. */
  static void once() {
    if (checked) {
      return;
    }
    checked = true;
    commandLineBytes().flatMap(CommandLineCheck::warning).ifPresent(LOG::warn);
  }

  /** The length of {@code /proc/self/cmdline}, where there is one. */
  static Optional<Long> commandLineBytes() {
    try {
      Path p = Path.of("/proc/self/cmdline");
      return Files.isReadable(p)
          ? Optional.of((long) Files.readAllBytes(p).length)
          : Optional.empty();
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /** The warning for a command line of {@code bytes}, if it is long enough to need one. */
  static Optional<String> warning(long bytes) {
    if (bytes <= WARN_BYTES) {
      return Optional.empty();
    }
    return Optional.of(
        "this process's command line is "
            + bytes
            + " bytes long; ONNX Runtime 1.29 crashes the JVM (SIGSEGV, no crash report) when it"
            + " reaches about 4 KB on Linux: put the class path in an argument file (java"
            + " @classpath.txt ...), in the CLASSPATH environment variable, or in an executable"
            + " jar's manifest");
  }
}
