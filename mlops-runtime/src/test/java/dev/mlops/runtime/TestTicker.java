package dev.mlops.runtime;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/** {@code System.nanoTime()} plus an offset a test moves, so that deadlines pass when it says. */
final class TestTicker implements LongSupplier {

  private final AtomicLong offset = new AtomicLong();

  @Override
  public long getAsLong() {
    return System.nanoTime() + offset.get();
  }

  /** Moves the ticker forward by {@code d} at once. */
  void advance(Duration d) {
    offset.addAndGet(d.toNanos());
  }
}
