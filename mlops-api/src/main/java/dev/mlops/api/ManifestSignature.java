package dev.mlops.api;

import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A detached signature over a version's manifest, made by whoever built the model (a training
 * pipeline, a release job) and checked by the registry with keys the application trusts.
 *
 * <p>The signed bytes are the manifest of format 1: a header line {@code mlops-manifest 1}, then
 * the model name, the entry-point file and every artifact file with its SHA-256, each string
 * preceded by its length in bytes. {@code dev.mlops.runtime.security.Manifest} makes them and
 * documents them byte for byte; {@code SECURITY.md} shows how to make them and the signature with
 * {@code openssl}.
 *
 * <p>Immutable and thread-safe; the signature bytes are copied in and out.
 *
 * @param keyId names the key in the application's trusted keys: 1-128 letters, digits, {@code .},
 *     {@code _}, {@code -}, {@code :} or {@code @}
 * @param algorithm {@link #ED25519} or {@link #ECDSA_P256_SHA256}
 * @param value the signature bytes: exactly 64 bytes for Ed25519; for ECDSA the DER-encoded {@code
 *     ECDSA-Sig-Value} (8 to 72 bytes), whose S must be at most half the curve order (low-S) to
 *     verify
 */
public record ManifestSignature(String keyId, String algorithm, byte[] value) {

  /** Ed25519 (RFC 8032), signing the manifest itself. */
  public static final String ED25519 = "Ed25519";

  /** ECDSA on the NIST P-256 curve over the SHA-256 of the manifest; DER-encoded, low-S. */
  public static final String ECDSA_P256_SHA256 = "SHA256withECDSA";

  private static final Pattern KEY_ID = Pattern.compile("[A-Za-z0-9._:@-]{1,128}");

  private static final int ED25519_LENGTH = 64;

  /** The longest DER encoding of a P-256 ECDSA signature: two 33-byte integers. */
  private static final int ECDSA_P256_MAX_LENGTH = 72;

  /**
   * Validates the fields and copies the signature bytes.
   *
   * @throws IllegalArgumentException if the key id or the algorithm is invalid, or the value's
   *     length cannot be a signature of the algorithm
   */
  public ManifestSignature {
    checkKeyId(keyId);
    Objects.requireNonNull(algorithm, "algorithm");
    Objects.requireNonNull(value, "value");
    if (!algorithm.equals(ED25519) && !algorithm.equals(ECDSA_P256_SHA256)) {
      throw new IllegalArgumentException(
          "signature algorithm '"
              + algorithm
              + "' is not supported: expected "
              + ED25519
              + " or "
              + ECDSA_P256_SHA256);
    }
    if (algorithm.equals(ED25519) && value.length != ED25519_LENGTH) {
      throw new IllegalArgumentException(
          "an Ed25519 signature is exactly "
              + ED25519_LENGTH
              + " bytes but this one is "
              + value.length);
    }
    if (algorithm.equals(ECDSA_P256_SHA256)
        && (value.length < 8 || value.length > ECDSA_P256_MAX_LENGTH)) {
      throw new IllegalArgumentException(
          "a DER-encoded P-256 ECDSA signature is 8 to "
              + ECDSA_P256_MAX_LENGTH
              + " bytes but this one is "
              + value.length);
    }
    value = value.clone();
  }

  /**
   * Throws {@link IllegalArgumentException} unless {@code keyId} is a valid key id: 1-128 letters,
   * digits, {@code .}, {@code _}, {@code -}, {@code :} or {@code @}.
   */
  public static void checkKeyId(String keyId) {
    Objects.requireNonNull(keyId, "keyId");
    if (!KEY_ID.matcher(keyId).matches()) {
      throw new IllegalArgumentException(
          "key id '"
              + keyId
              + "' is invalid: expected 1-128 letters, digits, '.', '_', '-', ':' or '@'");
    }
  }

  /**
   * A signature whose value is given in standard Base64, e.g. the output of {@code openssl base64
   * -A}; whitespace around it is ignored.
   *
   * @throws IllegalArgumentException if the value is not Base64, or as the constructor
   */
  public static ManifestSignature ofBase64(String keyId, String algorithm, String base64Value) {
    Objects.requireNonNull(base64Value, "base64Value");
    byte[] value;
    try {
      value = Base64.getDecoder().decode(base64Value.strip());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "the signature value is not standard Base64 (" + e.getMessage() + ")", e);
    }
    return new ManifestSignature(keyId, algorithm, value);
  }

  /** A copy of the signature bytes. */
  @Override
  public byte[] value() {
    return value.clone();
  }

  /** The signature bytes in standard Base64. */
  public String valueBase64() {
    return Base64.getEncoder().encodeToString(value);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ManifestSignature
        && ((ManifestSignature) o).keyId.equals(keyId)
        && ((ManifestSignature) o).algorithm.equals(algorithm)
        && Arrays.equals(((ManifestSignature) o).value, value);
  }

  @Override
  public int hashCode() {
    return Objects.hash(keyId, algorithm, Arrays.hashCode(value));
  }

  @Override
  public String toString() {
    return "ManifestSignature[keyId="
        + keyId
        + ", algorithm="
        + algorithm
        + ", "
        + value.length
        + " bytes]";
  }
}
