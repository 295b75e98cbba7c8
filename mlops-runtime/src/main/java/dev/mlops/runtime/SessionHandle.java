package dev.mlops.runtime;

import dev.mlops.api.ModelVersion;
import dev.mlops.api.spi.ModelSession;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loaded version with a reference count. The session cache holds one reference while the version
 * is cached, a predictor serving it holds one, and every call in flight holds one (its lease).
 * Swap, eviction and shutdown only drop references; the last release closes the session, exactly
 * once. A handle whose count reached zero can never be acquired again, so no call can run on a
 * closed session.
 */
final class SessionHandle {

  final ModelVersion version;
  final ModelSession session;

  /**
   * What warm-up has run on this session: loads under different predictors' policies share it, so a
   * stricter policy met later runs what a laxer one skipped. Written under the handle's lock.
   */
  private volatile boolean exampleRan;

  private volatile boolean warmUpTried;
  private final AtomicInteger refs = new AtomicInteger(1);
  private final CompletableFuture<Void> closed = new CompletableFuture<>();
  private final java.util.function.Consumer<SessionHandle> onClose;

  /** Where a call's last release closes the session, off the caller's thread. */
  private final java.util.concurrent.Executor closer;

  SessionHandle(
      ModelVersion version,
      ModelSession session,
      java.util.function.Consumer<SessionHandle> onClose,
      java.util.concurrent.Executor closer) {
    this.version = version;
    this.session = session;
    this.onClose = onClose;
    this.closer = closer;
  }

  /** Takes a reference unless the handle is already closed or closing. */
  boolean tryAcquire() {
    for (; ; ) {
      int n = refs.get();
      if (n == 0) {
        return false;
      }
      if (refs.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  /** Drops a reference; the last one closes the session, on this thread. */
  void release() {
    int n = refs.decrementAndGet();
    if (n == 0) {
      closeNow();
    } else if (n < 0) {
      throw new IllegalStateException("released more often than acquired: " + version.ref());
    }
  }

  /**
   * Drops a call's lease; if it was the last reference (the version was swapped from or evicted
   * meanwhile), the session closes on the closer, so the call that happened to finish last does not
   * pay for closing it (30 µs to milliseconds). A closer that refuses closes it here.
   */
  void releaseAfterCall() {
    int n = refs.decrementAndGet();
    if (n == 0) {
      try {
        closer.execute(this::closeNow);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        closeNow();
      }
    } else if (n < 0) {
      throw new IllegalStateException("released more often than acquired: " + version.ref());
    }
  }

  private void closeNow() {
    try {
      session.close();
    } finally {
      // Bookkeeping (closed count, ModelUnloaded) before waiters wake: a resource-preserving swap
      // waits on closedFuture and then loads the next version, which must be reported after this
      // one's unload.
      try {
        onClose.accept(this);
      } finally {
        closed.complete(null);
      }
    }
  }

  /** Whether the input example has run on this session. */
  boolean exampleRan() {
    return exampleRan;
  }

  /** Whether a warm-up (example or synthetic) has been attempted on this session. */
  boolean warmUpTried() {
    return warmUpTried;
  }

  /** Records a warm-up run; {@code example} when it was the input example and it passed. */
  void warmedUp(boolean example) {
    warmUpTried = true;
    if (example) {
      exampleRan = true;
    }
  }

  /** Completes when the session has been closed. */
  CompletableFuture<Void> closedFuture() {
    return closed;
  }

  int references() {
    return refs.get();
  }

  @Override
  public String toString() {
    return "SessionHandle[" + version.ref() + ", refs=" + refs.get() + "]";
  }
}
