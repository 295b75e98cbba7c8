package dev.mlops.runtime.security;

import dev.mlops.api.ManifestSignature;
import dev.mlops.api.SignatureException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The public keys an application trusts to sign model manifests, by key id. Ed25519 and ECDSA P-256
 * keys only; loadable from PEM files ({@code -----BEGIN PUBLIC KEY-----}, X.509
 * SubjectPublicKeyInfo, as {@code openssl pkey -pubout} writes it, parsed strictly). A key that
 * would let forged signatures verify (a small-order Ed25519 key, a point off the curve) is refused
 * when it is added. Verification uses the JDK's providers and never the network.
 *
 * <p>Immutable and thread-safe once built.
 */
public final class TrustedKeys {

  private static final TrustedKeys NONE = new TrustedKeys(new TreeMap<>());

  private final Map<String, PublicKey> keys;

  private TrustedKeys(Map<String, PublicKey> keys) {
    this.keys = Collections.unmodifiableMap(new TreeMap<>(keys));
  }

  /** No trusted key: every signature fails to verify. */
  public static TrustedKeys none() {
    return NONE;
  }

  /** Starts a builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** The ids of the trusted keys, sorted. */
  public Set<String> keyIds() {
    return keys.keySet();
  }

  /** The key with this id, if trusted. */
  public Optional<PublicKey> key(String keyId) {
    return Optional.ofNullable(keys.get(keyId));
  }

  /**
   * Checks that {@code signature} is a valid signature of {@code manifest} by a trusted key.
   *
   * <p>Only one encoding of a signature is accepted: an Ed25519 signature is exactly 64 bytes with
   * a canonical R and an S below the group order; an ECDSA signature is strict DER with {@code 1 <=
   * r, s < n} and a low S ({@code s <= n/2}), since {@code (r, n - s)} verifies as well and would
   * otherwise be a second valid signature of the same manifest.
   *
   * @param what how to name the artifact in the error, e.g. {@code models:/fraud/3}
   * @throws SignatureException naming the key and what is wrong: an unknown key, an algorithm that
   *     is not the key's, a signature in a non-canonical or malformed encoding, or a signature that
   *     does not match the manifest
   */
  public void verify(Manifest manifest, ManifestSignature signature, String what) {
    Objects.requireNonNull(manifest, "manifest");
    Objects.requireNonNull(signature, "signature");
    PublicKey key = keys.get(signature.keyId());
    if (key == null) {
      throw new SignatureException(
          what
              + " is signed with key '"
              + signature.keyId()
              + "', which is not among the trusted keys "
              + keys.keySet()
              + "; add its public key to TrustedKeys");
    }
    String expected = Keys.algorithmOf(key);
    if (!expected.equals(signature.algorithm())) {
      throw new SignatureException(
          what
              + " is signed with "
              + signature.algorithm()
              + " but trusted key '"
              + signature.keyId()
              + "' is an "
              + expected
              + " key");
    }
    byte[] value = signature.value();
    String problem =
        expected.equals(ManifestSignature.ED25519) ? ed25519Problem(value) : ecdsaProblem(value);
    if (problem != null) {
      throw new SignatureException(
          "the "
              + expected
              + " signature of "
              + what
              + " by key '"
              + signature.keyId()
              + "' is refused: "
              + problem);
    }
    boolean valid;
    try {
      Signature s = Signature.getInstance(expected);
      s.initVerify(key);
      s.update(manifest.bytes());
      valid = s.verify(value);
    } catch (java.security.SignatureException e) {
      valid = false; // what the provider cannot parse is just an invalid signature
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new SignatureException(
          "cannot verify the signature of "
              + what
              + " with key '"
              + signature.keyId()
              + "': "
              + e.getMessage(),
          e);
    }
    if (!valid) {
      throw new SignatureException(
          "the signature of "
              + what
              + " by key '"
              + signature.keyId()
              + "' does not match its manifest (model '"
              + manifest.model()
              + "', entry point "
              + Manifest.printable(manifest.entryPoint())
              + ", "
              + manifest.files().size()
              + " files "
              + manifest.paths()
              + ", sha256 "
              + manifest.sha256Hex()
              + "): the files, the model name or the entry point differ from what was signed, or"
              + " the signature is damaged");
    }
  }

  private static String ed25519Problem(byte[] value) {
    if (value.length != 64) {
      return "it is " + value.length + " bytes; expected exactly 64";
    }
    String problem = Curves.ed25519SignatureProblem(value);
    return problem == null ? null : problem + "; expected the canonical encoding (RFC 8032)";
  }

  private static String ecdsaProblem(byte[] value) {
    BigInteger[] rs;
    try {
      rs = Der.ecdsaSignature(value);
    } catch (IllegalArgumentException e) {
      return "it is not a DER-encoded ECDSA signature: "
          + e.getMessage()
          + "; expected SEQUENCE { INTEGER r, INTEGER s } in strict DER";
    }
    BigInteger n = Keys.P256.getOrder();
    for (int i = 0; i < 2; i++) {
      if (rs[i].signum() == 0 || rs[i].compareTo(n) >= 0) {
        return "its "
            + (i == 0 ? "r" : "s")
            + " is not in [1, n - 1] for the P-256 group order n; expected a signature of P-256";
      }
    }
    if (rs[1].compareTo(n.shiftRight(1)) > 0) {
      return "its S is high (s > n/2); expected a low-S signature, since (r, n - s) is its"
          + " malleable twin: ManifestSigner signs low-S, and with openssl sign until S is low"
          + " (see SECURITY.md)";
    }
    return null;
  }

  @Override
  public String toString() {
    return "TrustedKeys" + keys.keySet();
  }

  /** Builder for {@link TrustedKeys}; each key id can be added once. Not thread-safe. */
  public static final class Builder {
    private final Map<String, PublicKey> keys = new TreeMap<>();

    private Builder() {}

    /**
     * Trusts {@code key} under {@code keyId}.
     *
     * @throws IllegalArgumentException if the id is invalid, or the key is neither Ed25519 nor EC
     *     on P-256, or is an Ed25519 key of small order, outside the prime-order subgroup or in a
     *     non-canonical encoding, or an EC key whose point is not on the curve
     * @throws IllegalStateException if the id is already taken
     */
    public Builder add(String keyId, PublicKey key) {
      ManifestSignature.checkKeyId(keyId);
      Objects.requireNonNull(key, "key");
      Keys.checkPublicKey(key);
      if (keys.containsKey(keyId)) {
        throw new IllegalStateException("key id '" + keyId + "' was already added");
      }
      keys.put(keyId, key);
      return this;
    }

    /**
     * Trusts the PEM public key in {@code pem} under {@code keyId}. The text must hold exactly one
     * {@code -----BEGIN PUBLIC KEY-----} block and nothing before or after it but whitespace, and
     * the block nothing but Base64 lines of the key's canonical X.509 encoding.
     *
     * @throws IllegalArgumentException naming what was expected and what was found, or as {@link
     *     #add}
     */
    public Builder addPem(String keyId, String pem) {
      return add(keyId, Keys.publicKeyFromPem(Objects.requireNonNull(pem, "pem")));
    }

    /**
     * Trusts the PEM public key in {@code pemFile} under {@code keyId}, as {@link #addPem(String,
     * String)}; a file of more than 16 KiB is refused unread.
     *
     * @throws IllegalArgumentException as {@link #addPem(String, String)}, naming the file
     * @throws UncheckedIOException if the file cannot be read
     */
    public Builder addPem(String keyId, Path pemFile) {
      Objects.requireNonNull(pemFile, "pemFile");
      String pem = Pem.read(pemFile, "public key");
      try {
        return addPem(keyId, pem);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(pemFile + ": " + e.getMessage(), e);
      }
    }

    /** Builds the key set. */
    public TrustedKeys build() {
      return new TrustedKeys(keys);
    }
  }
}
