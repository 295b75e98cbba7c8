package dev.mlops.metrics;

import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;

/**
 * An SLF4J logger with every level enabled that formats each line, counts it per level and keeps
 * nothing, so that a sink's full formatting path runs without the log growing.
 */
final class CountingLogger extends LegacyAbstractLogger {

  private final LongAdder[] counts = new LongAdder[Level.values().length];

  CountingLogger() {
    this.name = "counting";
    for (int i = 0; i < counts.length; i++) {
      counts[i] = new LongAdder();
    }
  }

  long count(Level level) {
    return counts[level.ordinal()].sum();
  }

  @Override
  public boolean isTraceEnabled() {
    return true;
  }

  @Override
  public boolean isDebugEnabled() {
    return true;
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
      Level level, Marker marker, String pattern, Object[] args, Throwable throwable) {
    if (MessageFormatter.basicArrayFormat(pattern, args).isEmpty()) {
      throw new AssertionError("empty log line");
    }
    counts[level.ordinal()].increment();
  }
}
