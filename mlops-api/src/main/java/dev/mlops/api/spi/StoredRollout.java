package dev.mlops.api.spi;

import java.util.Objects;

/**
 * A rollout as a {@link ModelStore} keeps it: the registry's record (its own encoding; the store
 * keeps it as given) and the store's revision of it.
 *
 * @param record the registry's record of the rollout
 * @param revision 1 after the alias's first rollout was written; the store bumps it on every write,
 *     so a revision never repeats for one alias
 */
public record StoredRollout(String record, long revision) {
  /** Validates. */
  public StoredRollout {
    Objects.requireNonNull(record, "record");
    if (revision < 1) {
      throw new IllegalArgumentException("revision must be >= 1: " + revision);
    }
  }
}
