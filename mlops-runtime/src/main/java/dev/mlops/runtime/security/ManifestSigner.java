package dev.mlops.runtime.security;

import dev.mlops.api.ArtifactSource;
import dev.mlops.api.ManifestSignature;
import dev.mlops.api.ModelVersion;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.util.Objects;

/**
 * Signs manifests with a private key: Ed25519, or ECDSA on NIST P-256 with SHA-256 (the JDK's own
 * providers; nothing leaves the process). A manifest names the model, so sign for the name the
 * version will be registered under. ECDSA signatures are made low-S, the only form {@link
 * TrustedKeys} accepts.
 *
 * <pre>{@code
 * ManifestSigner signer = ManifestSigner.of("release-2026", privateKey);
 * ArtifactSource source = ArtifactSource.directory(dir, "model.onnx");
 * registry.register(Registration.builder("fraud", source)
 *     .manifestSignature(signer.sign("fraud", source))
 *     .build(), AuditInfo.by("ci", "release 42"));
 * }</pre>
 *
 * <p>A pipeline can sign outside Java as well; {@code SECURITY.md} shows it with {@code openssl}.
 * Immutable and thread-safe.
 */
public final class ManifestSigner {

  private final String keyId;
  private final PrivateKey key;
  private final String algorithm;

  private ManifestSigner(String keyId, PrivateKey key) {
    ManifestSignature.checkKeyId(keyId);
    this.key = Objects.requireNonNull(key, "key");
    this.algorithm = Keys.checkPrivateKey(key);
    this.keyId = keyId;
  }

  /**
   * A signer with {@code key}, whose signatures name {@code keyId}.
   *
   * @throws IllegalArgumentException if the key is neither Ed25519 nor EC on P-256, or the id is
   *     invalid
   */
  public static ManifestSigner of(String keyId, PrivateKey key) {
    return new ManifestSigner(keyId, key);
  }

  /**
   * A signer with the PKCS#8 PEM private key in {@code pemFile} (as {@code openssl genpkey} writes
   * it, unencrypted): exactly one {@code -----BEGIN PRIVATE KEY-----} block, nothing before or
   * after it but whitespace, only Base64 inside; a file of more than 16 KiB is refused unread.
   *
   * @throws IllegalArgumentException if the file holds no such key, naming what it found
   * @throws UncheckedIOException if the file cannot be read
   */
  public static ManifestSigner fromPem(String keyId, Path pemFile) {
    Objects.requireNonNull(pemFile, "pemFile");
    String pem = Pem.read(pemFile, "private key");
    PrivateKey key;
    try {
      key = Keys.privateKeyFromPem(pem);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(pemFile + ": " + e.getMessage(), e);
    }
    return new ManifestSigner(keyId, key);
  }

  /** The key id the signatures name. */
  public String keyId() {
    return keyId;
  }

  /** {@link ManifestSignature#ED25519} or {@link ManifestSignature#ECDSA_P256_SHA256}. */
  public String algorithm() {
    return algorithm;
  }

  /** Signs a manifest's {@link Manifest#bytes() bytes}; an ECDSA signature is low-S. */
  public ManifestSignature sign(Manifest manifest) {
    Objects.requireNonNull(manifest, "manifest");
    byte[] value;
    try {
      Signature s = Signature.getInstance(algorithm);
      s.initSign(key);
      s.update(manifest.bytes());
      value = s.sign();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot sign with " + algorithm + ": " + e.getMessage(), e);
    }
    if (algorithm.equals(ManifestSignature.ECDSA_P256_SHA256)) {
      value = lowS(value);
    }
    return new ManifestSignature(keyId, algorithm, value);
  }

  /** {@code (r, s)} as is when {@code s <= n/2}, else its twin {@code (r, n - s)}. */
  private static byte[] lowS(byte[] der) {
    BigInteger[] rs = Der.ecdsaSignature(der);
    BigInteger n = Keys.P256.getOrder();
    if (rs[1].compareTo(n.shiftRight(1)) <= 0) {
      return der;
    }
    return Der.ecdsaSignature(rs[0], n.subtract(rs[1]));
  }

  /**
   * Signs the manifest of a registered version (for example to register it in another registry
   * under the same name).
   */
  public ManifestSignature sign(ModelVersion version) {
    return sign(Manifest.of(version));
  }

  /**
   * Signs the manifest that registering {@code source} as a version of {@code model} will record
   * (see {@link Manifest#of(String, ArtifactSource)}); the files must not change before they are
   * registered, and the signature verifies only for that model name.
   *
   * @throws IllegalArgumentException for a stream source
   * @throws dev.mlops.api.SignatureException if a file name cannot be in a manifest
   */
  public ManifestSignature sign(String model, ArtifactSource source) {
    return sign(Manifest.of(model, source));
  }

  @Override
  public String toString() {
    return "ManifestSigner[" + keyId + ", " + algorithm + "]";
  }
}
