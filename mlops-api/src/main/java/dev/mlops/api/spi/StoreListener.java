package dev.mlops.api.spi;

import dev.mlops.api.AuditEntry;

/**
 * Receives a {@link ModelStore}'s committed changes, on a thread of the store's choosing (the
 * committing thread, or one of the store's own): be quick.
 */
public interface StoreListener {

  /** A change committed: the audit entry it committed with. */
  void changed(AuditEntry change);

  /**
   * Changes may have been missed (the store lost its connection to shared state and has it back):
   * re-read whatever the listener keeps, from the store's current state.
   */
  default void resync() {}
}
