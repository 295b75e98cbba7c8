package dev.mlops.metrics;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;

/** An SLF4J logger that keeps every line at or above its threshold, formatted, for assertions. */
final class RecordingLogger extends LegacyAbstractLogger {

  record Entry(Level level, String message, Throwable throwable) {}

  private final Level threshold;
  private final List<Entry> entries = new CopyOnWriteArrayList<>();

  RecordingLogger(Level threshold) {
    this.name = "recording";
    this.threshold = threshold;
  }

  List<Entry> entries() {
    return List.copyOf(entries);
  }

  List<String> messages() {
    return entries.stream().map(Entry::message).toList();
  }

  private boolean enabled(Level level) {
    return level.toInt() >= threshold.toInt();
  }

  @Override
  public boolean isTraceEnabled() {
    return enabled(Level.TRACE);
  }

  @Override
  public boolean isDebugEnabled() {
    return enabled(Level.DEBUG);
  }

  @Override
  public boolean isInfoEnabled() {
    return enabled(Level.INFO);
  }

  @Override
  public boolean isWarnEnabled() {
    return enabled(Level.WARN);
  }

  @Override
  public boolean isErrorEnabled() {
    return enabled(Level.ERROR);
  }

  @Override
  protected String getFullyQualifiedCallerName() {
    return null;
  }

  @Override
  protected void handleNormalizedLoggingCall(
      Level level, Marker marker, String pattern, Object[] args, Throwable throwable) {
    // AbstractLogger delivers every call here, enabled or not; filter like a real backend.
    if (enabled(level)) {
      entries.add(new Entry(level, MessageFormatter.basicArrayFormat(pattern, args), throwable));
    }
  }
}
