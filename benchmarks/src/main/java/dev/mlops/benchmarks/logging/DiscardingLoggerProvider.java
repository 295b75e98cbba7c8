package dev.mlops.benchmarks.logging;

import java.io.PrintStream;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
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
 * The benchmarks' SLF4J backend, found by {@link java.util.ServiceLoader}. It plays a no-op binding
 * such as {@code slf4j-nop}, with one difference that the sink benchmark needs: a level per logger.
 * Loggers whose name ends in {@value #DEBUG_SUFFIX} are enabled from {@code DEBUG} up, all others
 * from {@code INFO} up. Everything enabled below {@code WARN} is discarded after the level check,
 * so a sink that logs at {@code DEBUG} pays for its sampling and formatting and for the call, not
 * for an appender. {@code WARN} and {@code ERROR} go to standard error, so that a failure during a
 * benchmark is not silent. Thread-safe.
 */
public final class DiscardingLoggerProvider implements SLF4JServiceProvider {

  /** Loggers with a name ending in this are enabled at {@code DEBUG}. */
  public static final String DEBUG_SUFFIX = ".debug";

  private final Factory factory = new Factory();
  private final IMarkerFactory markers = new BasicMarkerFactory();
  private final MDCAdapter mdc = new NOPMDCAdapter();

  /** For {@link java.util.ServiceLoader}. */
  public DiscardingLoggerProvider() {}

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
      return loggers.computeIfAbsent(name, DiscardingLogger::new);
    }
  }

  private static final class DiscardingLogger extends LegacyAbstractLogger {
    private static final long serialVersionUID = 1L;

    private final boolean debug;

    DiscardingLogger(String name) {
      this.name = name;
      this.debug = name.endsWith(DEBUG_SUFFIX);
    }

    @Override
    public boolean isTraceEnabled() {
      return false;
    }

    @Override
    public boolean isDebugEnabled() {
      return debug;
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
      if (level.toInt() < Level.WARN.toInt()) {
        return;
      }
      PrintStream err = System.err;
      err.println(
          level + " " + name + " - " + MessageFormatter.basicArrayFormat(pattern, arguments));
      if (throwable != null) {
        throwable.printStackTrace(err);
      }
    }
  }
}
