package dev.mlops.runtime.security;

import dev.mlops.api.ManifestSignature;
import dev.mlops.api.SignatureException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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
 * SubjectPublicKeyInfo, as {@code openssl pkey -pubout} writes it). Verification uses the JDK's
 * providers and never the network.
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
   * @param what how to name the artifact in the error, e.g. {@code models:/fraud/3}
   * @throws SignatureException naming the key and what is wrong: an unknown key, an algorithm that
   *     is not the key's, or a signature that does not match the manifest
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
    boolean valid;
    try {
      Signature s = Signature.getInstance(expected);
      s.initVerify(key);
      s.update(manifest.bytes());
      valid = s.verify(signature.value());
    } catch (java.security.SignatureException e) {
      valid = false; // a malformed signature (bad DER) is just an invalid one
    } catch (GeneralSecurityException e) {
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
     * @throws IllegalArgumentException if the key is neither Ed25519 nor EC on P-256
     * @throws IllegalStateException if the id is already taken
     */
    public Builder add(String keyId, PublicKey key) {
      Objects.requireNonNull(key, "key");
      String algorithm = Keys.algorithmOf(key);
      new ManifestSignature(
          Objects.requireNonNull(keyId, "keyId"), algorithm, new byte[1]); // validates the id
      if (keys.containsKey(keyId)) {
        throw new IllegalStateException("key id '" + keyId + "' was already added");
      }
      keys.put(keyId, key);
      return this;
    }

    /** Trusts the PEM public key in {@code pem} under {@code keyId}. */
    public Builder addPem(String keyId, String pem) {
      return add(keyId, Keys.publicKeyFromPem(Objects.requireNonNull(pem, "pem")));
    }

    /**
     * Trusts the PEM public key in {@code pemFile} under {@code keyId}.
     *
     * @throws UncheckedIOException if the file cannot be read
     */
    public Builder addPem(String keyId, Path pemFile) {
      try {
        return addPem(keyId, Files.readString(pemFile, StandardCharsets.US_ASCII));
      } catch (IOException e) {
        throw new UncheckedIOException(
            "cannot read the public key " + pemFile + ": " + e.getMessage(), e);
      }
    }

    /** Builds the key set. */
    public TrustedKeys build() {
      return new TrustedKeys(keys);
    }
  }
}
