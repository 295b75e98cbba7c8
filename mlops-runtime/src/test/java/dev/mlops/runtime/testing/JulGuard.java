package dev.mlops.runtime.testing;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails any test during which the library or Caffeine logged through java.util.logging: the library
 * logs through SLF4J only, and a JUL line (such as Caffeine's "Exception thrown during asynchronous
 * load" with a stack trace) bypasses the application's logging setup. Registered for every test of
 * this module by JUnit's extension auto-detection ({@code junit-platform.properties}).
 */
public final class JulGuard implements BeforeAllCallback, AfterEachCallback {

  /** Logger-name prefixes that must not log through JUL. */
  static final List<String> GUARDED = List.of("dev.mlops", "com.github.benmanes.caffeine");

  private static final List<LogRecord> RECORDS = new CopyOnWriteArrayList<>();
  private static final Handler HANDLER =
      new Handler() {
        @Override
        public void publish(LogRecord r) {
          String name = r.getLoggerName() == null ? "" : r.getLoggerName();
          if (GUARDED.stream().anyMatch(name::startsWith)) {
            RECORDS.add(r);
          }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };

  static {
    java.util.logging.Logger.getLogger("").addHandler(HANDLER);
  }

  /** Records taken from guarded loggers since the last check, and forgets them. */
  public static List<LogRecord> drain() {
    List<LogRecord> out = List.copyOf(RECORDS);
    RECORDS.removeAll(out);
    return out;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    // The handler is installed when the class loads; this only makes sure it has.
  }

  @Override
  public void afterEach(ExtensionContext context) {
    List<LogRecord> seen = drain();
    if (!seen.isEmpty()) {
      StringBuilder sb =
          new StringBuilder(
              seen.size()
                  + " java.util.logging record(s) from the library or Caffeine"
                  + " during "
                  + context.getDisplayName()
                  + "; the library must log through SLF4J only:");
      for (LogRecord r : seen) {
        sb.append("\n  ")
            .append(r.getLevel())
            .append(' ')
            .append(r.getLoggerName())
            .append(": ")
            .append(r.getMessage());
      }
      throw new AssertionError(sb.toString());
    }
  }
}
