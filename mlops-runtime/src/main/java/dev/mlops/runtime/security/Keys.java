package dev.mlops.runtime.security;

import dev.mlops.api.ManifestSignature;
import java.math.BigInteger;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.ECKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.EdECKey;
import java.security.interfaces.EdECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.KeySpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;

/**
 * Key types the manifest signatures accept, their checks, and PEM decoding. Every refusal is an
 * {@link IllegalArgumentException} naming what was expected and what was found.
 */
final class Keys {

  static final ECParameterSpec P256 = p256();

  /** The X.509 SubjectPublicKeyInfo of an Ed25519 key, up to its 32 key bytes (RFC 8410). */
  private static final byte[] ED25519_SPKI_PREFIX = {
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00
  };

  private static final String PUBLIC_HINT =
      "(X.509 SubjectPublicKeyInfo, as written by 'openssl pkey -pubout')";
  private static final String PRIVATE_HINT = "(PKCS#8, as written by 'openssl genpkey')";

  private Keys() {}

  private static ECParameterSpec p256() {
    try {
      AlgorithmParameters params = AlgorithmParameters.getInstance("EC");
      params.init(new ECGenParameterSpec("secp256r1"));
      return params.getParameterSpec(ECParameterSpec.class);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no NIST P-256 curve", e);
    }
  }

  /**
   * The {@link ManifestSignature} algorithm for a key.
   *
   * @throws IllegalArgumentException for any key but Ed25519 and ECDSA on P-256
   */
  static String algorithmOf(Key key) {
    if (key instanceof EdECKey
        && "Ed25519".equalsIgnoreCase(((EdECKey) key).getParams().getName())) {
      return ManifestSignature.ED25519;
    }
    if (key instanceof ECKey && isP256(((ECKey) key).getParams())) {
      return ManifestSignature.ECDSA_P256_SHA256;
    }
    throw new IllegalArgumentException(
        "unsupported key "
            + describe(key)
            + ": expected an Ed25519 key or an EC key on the NIST P-256 curve");
  }

  private static boolean isP256(ECParameterSpec p) {
    return p != null
        && p.getCurve().equals(P256.getCurve())
        && p.getGenerator().equals(P256.getGenerator())
        && p.getOrder().equals(P256.getOrder())
        && p.getCofactor() == P256.getCofactor();
  }

  private static String describe(Key key) {
    if (key instanceof ECKey && ((ECKey) key).getParams() != null) {
      BigInteger order = ((ECKey) key).getParams().getOrder();
      return "EC (" + order.bitLength() + "-bit curve)";
    }
    if (key instanceof EdECKey) {
      return ((EdECKey) key).getParams().getName();
    }
    return key.getAlgorithm();
  }

  /**
   * Checks that a public key can be trusted: an Ed25519 key must be a canonical encoding of a point
   * of the prime-order subgroup (the JDK accepts small-order keys, under which a forged signature
   * verifies every manifest), a P-256 key a point of the curve.
   *
   * @return the key's {@link ManifestSignature} algorithm
   * @throws IllegalArgumentException naming what is wrong
   */
  static String checkPublicKey(PublicKey key) {
    String algorithm = algorithmOf(key);
    String problem;
    if (algorithm.equals(ManifestSignature.ED25519)) {
      problem = Curves.ed25519KeyProblem(ed25519Bytes((EdECPublicKey) key));
    } else if (key instanceof ECPublicKey) {
      problem = Curves.ecPointProblem(((ECPublicKey) key).getW(), P256);
    } else {
      problem = "it is not an ECPublicKey";
    }
    if (problem != null) {
      throw new IllegalArgumentException(
          "the " + algorithm + " public key is refused: " + problem + "; expected a generated key");
    }
    return algorithm;
  }

  /** The 32 bytes of an Ed25519 public key as encoded (RFC 8032), not as the JDK reduced them. */
  private static byte[] ed25519Bytes(EdECPublicKey key) {
    byte[] spki = key.getEncoded();
    if (spki != null
        && spki.length == ED25519_SPKI_PREFIX.length + 32
        && Arrays.equals(
            spki,
            0,
            ED25519_SPKI_PREFIX.length,
            ED25519_SPKI_PREFIX,
            0,
            ED25519_SPKI_PREFIX.length)) {
      return Arrays.copyOfRange(spki, ED25519_SPKI_PREFIX.length, spki.length);
    }
    BigInteger y = key.getPoint().getY();
    if (y.signum() < 0 || y.bitLength() > 255) {
      return new byte[0];
    }
    byte[] be = y.toByteArray();
    byte[] out = new byte[32];
    for (int i = 0; i < be.length && i < 32; i++) {
      out[i] = be[be.length - 1 - i];
    }
    if (key.getPoint().isXOdd()) {
      out[31] |= (byte) 0x80;
    }
    return out;
  }

  /** Checks that a private key is Ed25519, or EC on P-256 with a scalar in [1, n). */
  static String checkPrivateKey(PrivateKey key) {
    String algorithm = algorithmOf(key);
    if (key instanceof ECPrivateKey) {
      BigInteger s = ((ECPrivateKey) key).getS();
      if (s.signum() <= 0 || s.compareTo(P256.getOrder()) >= 0) {
        throw new IllegalArgumentException(
            "the P-256 private key is refused: its scalar is not in [1, n); expected a generated"
                + " key");
      }
    }
    return algorithm;
  }

  /**
   * The public key of a PEM text holding exactly one {@code PUBLIC KEY} block (see {@link Pem}),
   * checked as {@link #checkPublicKey}.
   */
  static PublicKey publicKeyFromPem(String pem) {
    byte[] der = Pem.decode(pem, "PUBLIC KEY", PUBLIC_HINT);
    Der.checkSingleSequence(der, "the PEM public key");
    PublicKey key = (PublicKey) decode(new X509EncodedKeySpec(der), true);
    if (!Arrays.equals(key.getEncoded(), der)) {
      throw new IllegalArgumentException(
          "the PEM public key is not in the canonical X.509 form "
              + PUBLIC_HINT
              + " (for EC: a named curve and an uncompressed point)");
    }
    checkPublicKey(key);
    return key;
  }

  /** The private key of a PEM text holding exactly one unencrypted PKCS#8 block. */
  static PrivateKey privateKeyFromPem(String pem) {
    byte[] der = Pem.decode(pem, "PRIVATE KEY", PRIVATE_HINT);
    Der.checkSingleSequence(der, "the PEM private key");
    PrivateKey key = (PrivateKey) decode(new PKCS8EncodedKeySpec(der), false);
    checkPrivateKey(key);
    return key;
  }

  private static Key decode(KeySpec spec, boolean isPublic) {
    Exception last = null;
    for (String alg : new String[] {"Ed25519", "EC"}) {
      try {
        KeyFactory kf = KeyFactory.getInstance(alg);
        Key key = isPublic ? kf.generatePublic(spec) : kf.generatePrivate(spec);
        algorithmOf(key);
        return key;
      } catch (GeneralSecurityException | RuntimeException e) {
        // Hostile DER may make a JDK parser throw anything unchecked; it is a bad key all the same.
        last = e;
      }
    }
    throw new IllegalArgumentException(
        "the PEM "
            + (isPublic ? "public" : "private")
            + " key is neither an Ed25519 nor a P-256 EC key: "
            + last.getMessage(),
        last);
  }
}
