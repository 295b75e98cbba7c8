package dev.mlops.api;

/** Kinds of change or finding recorded in the audit log. */
public enum AuditAction {
  /** A version was registered. */
  REGISTER,
  /** An alias was created or moved. */
  SET_ALIAS,
  /** An alias was removed. */
  DELETE_ALIAS,
  /** A version was archived. */
  ARCHIVE,
  /** A version was deleted. */
  DELETE_VERSION,
  /**
   * A registered version could not be loaded or warmed up by the engine. Details: {@code version},
   * {@code error}.
   */
  LOAD_FAILED,
  /**
   * A registered version failed verification before loading: a file changed, went missing or was
   * added, or the model refers to data outside its files. Details: {@code version}, {@code error}.
   */
  VERIFICATION_FAILED,
  /**
   * A registered version's manifest signature was missing, untrusted or invalid where the registry
   * enforces signatures. Details: {@code version}, {@code keyId} (if signed), {@code error}.
   */
  SIGNATURE_FAILED,
  /**
   * A predictor that follows an alias or {@code latest} refused to switch to a version whose
   * signature is incompatible with the one it serves, and kept serving that one. Details: {@code
   * version} (the refused one), {@code serving}, {@code target}, {@code error} (the differences).
   */
  SWAP_REFUSED,
  /**
   * A rollout started behind an alias. Details: {@code alias}, {@code rollout} (its id), {@code
   * from} (the stable version), {@code to} (the candidate), {@code weight} (basis points), {@code
   * change} ({@code start}).
   */
  START_ROLLOUT,
  /**
   * A running rollout changed: {@code change} is {@code weight}, {@code pause} or {@code resume}.
   * Details as {@link #START_ROLLOUT}.
   */
  UPDATE_ROLLOUT,
  /**
   * A rollout ended: {@code change} is {@code promote} (the alias moved to the candidate), {@code
   * abort}, or {@code rollback} (failed checks; the reason says which). Details as {@link
   * #START_ROLLOUT}.
   */
  END_ROLLOUT
}
