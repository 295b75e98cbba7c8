package dev.mlops.runtime.security;

/**
 * What a registry does with manifest signatures, at registration and again each time a version is
 * verified for loading.
 */
public enum SignaturePolicy {
  /** Signatures are stored when given but never checked. The default. */
  OFF,
  /**
   * Signatures are checked; a missing, untrusted or invalid one is logged at WARN and recorded in
   * the version's registration audit entry, and the version is accepted. A step towards {@link
   * #ENFORCE} that shows what would be refused.
   */
  WARN,
  /**
   * Every version needs a valid signature by a trusted key: registering without one fails with a
   * {@link dev.mlops.api.SignatureException} and changes nothing; a stored version whose signature
   * no longer verifies is not loaded.
   */
  ENFORCE
}
