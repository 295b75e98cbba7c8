package dev.mlops.api;

/** Kinds of change recorded in the audit log. */
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
  DELETE_VERSION
}
