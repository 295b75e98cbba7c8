package dev.mlops.runtime;

import dev.mlops.api.ModelVersion;
import dev.mlops.api.spi.ModelSession;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loaded version with a reference count. A predictor serving the version holds one reference;
 * every call in flight holds another (its lease). When the last reference is released the
 * session is closed, exactly once. A handle whose count reached zero can never be acquired
 * again, so no code path can run on a closed session.
 */
final class SessionHandle {

  final ModelVersion version;
  final ModelSession session;
  private final AtomicInteger refs = new AtomicInteger(1);
  private final Runnable onClose;

  SessionHandle(ModelVersion version, ModelSession session, Runnable onClose) {
    this.version = version;
    this.session = session;
    this.onClose = onClose;
  }

  /** Takes a reference unless the handle is already closed or closing. */
  boolean tryAcquire() {
    for (;;) {
      int n = refs.get();
      if (n == 0) {
        return false;
      }
      if (refs.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  /** Drops a reference; the last one closes the session. */
  void release() {
    int n = refs.decrementAndGet();
    if (n == 0) {
      try {
        session.close();
      } finally {
        onClose.run();
      }
    } else if (n < 0) {
      throw new IllegalStateException("released more often than acquired: " + version.ref());
    }
  }

  int references() {
    return refs.get();
  }

  @Override
  public String toString() {
    return "SessionHandle[" + version.ref() + ", refs=" + refs.get() + "]";
  }
}
