package dev.mlops.runtime.testing;

import java.io.PrintStream;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.ILoggerFactory;
import org.slf4j.IMarkerFactory;
import org.slf4j.Logger;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.BasicMarkerFactory;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;
import org.slf4j.helpers.NOPMDCAdapter;
import org.slf4j.spi.MDCAdapter;
import org.slf4j.spi.SLF4JServiceProvider;

/**
 * The runtime tests' SLF4J backend, found by {@link java.util.ServiceLoader}: it records every line
 * at INFO and above, so tests can assert what the library logged and at which level, and prints it
 * to standard error as slf4j-simple would. Thread-safe.
 */
public final class CapturedLogs implements SLF4JServiceProvider {

  /**
   * One logged line. @param logger logger name @param level level @param message formatted
   * message @param thrown attached throwable or null
   */
  public record Line(String logger, Level level, String message, Throwable thrown) {}

  private static final List<Line> LINES = new CopyOnWriteArrayList<>();

  private final Factory factory = new Factory();
  private final IMarkerFactory markers = new BasicMarkerFactory();
  private final MDCAdapter mdc = new NOPMDCAdapter();

  /** For {@link java.util.ServiceLoader}. */
  public CapturedLogs() {}

  /** Every line recorded since the last {@link #clear()}, oldest first. */
  public static List<Line> lines() {
    return List.copyOf(LINES);
  }

  /** The lines at {@code level} from loggers whose name starts with {@code loggerPrefix}. */
  public static List<Line> lines(Level level, String loggerPrefix) {
    return LINES.stream()
        .filter(l -> l.level() == level && l.logger().startsWith(loggerPrefix))
        .toList();
  }

  /** Forgets the lines recorded so far. */
  public static void clear() {
    LINES.clear();
  }

  @Override
  public ILoggerFactory getLoggerFactory() {
    return factory;
  }

  @Override
  public IMarkerFactory getMarkerFactory() {
    return markers;
  }

  @Override
  public MDCAdapter getMDCAdapter() {
    return mdc;
  }

  @Override
  public String getRequestedApiVersion() {
    return "2.0.99";
  }

  @Override
  public void initialize() {}

  private static final class Factory implements ILoggerFactory {
    private final ConcurrentMap<String, Logger> loggers = new ConcurrentHashMap<>();

    @Override
    public Logger getLogger(String name) {
      return loggers.computeIfAbsent(name, Recording::new);
    }
  }

  private static final class Recording extends LegacyAbstractLogger {
    private static final long serialVersionUID = 1L;

    Recording(String name) {
      this.name = name;
    }

    @Override
    public boolean isTraceEnabled() {
      return false;
    }

    @Override
    public boolean isDebugEnabled() {
      return false;
    }

    @Override
    public boolean isInfoEnabled() {
      return true;
    }

    @Override
    public boolean isWarnEnabled() {
      return true;
    }

    @Override
    public boolean isErrorEnabled() {
      return true;
    }

    @Override
    protected String getFullyQualifiedCallerName() {
      return null;
    }

    @Override
    protected void handleNormalizedLoggingCall(
        Level level, Marker marker, String pattern, Object[] arguments, Throwable throwable) {
      String message = MessageFormatter.basicArrayFormat(pattern, arguments);
      LINES.add(new Line(name, level, message, throwable));
      PrintStream err = System.err;
      err.println(
          "[" + Thread.currentThread().getName() + "] " + level + " " + name + " - " + message);
      if (throwable != null) {
        throwable.printStackTrace(err);
      }
    }
  }
}
