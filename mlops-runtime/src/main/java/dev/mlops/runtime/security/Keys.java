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
import java.security.interfaces.EdECKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.KeySpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;

/** Key types the manifest signatures accept, and PEM decoding. */
final class Keys {

  private static final ECParameterSpec P256 = p256();

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

  static PublicKey publicKeyFromPem(String pem) {
    byte[] der = pemBody(pem, "PUBLIC KEY");
    return (PublicKey) decode(new X509EncodedKeySpec(der), true);
  }

  static PrivateKey privateKeyFromPem(String pem) {
    byte[] der = pemBody(pem, "PRIVATE KEY");
    return (PrivateKey) decode(new PKCS8EncodedKeySpec(der), false);
  }

  private static Key decode(KeySpec spec, boolean isPublic) {
    GeneralSecurityException last = null;
    for (String alg : new String[] {"Ed25519", "EC"}) {
      try {
        KeyFactory kf = KeyFactory.getInstance(alg);
        Key key = isPublic ? kf.generatePublic(spec) : kf.generatePrivate(spec);
        algorithmOf(key);
        return key;
      } catch (GeneralSecurityException e) {
        last = e;
      }
    }
    throw new IllegalArgumentException(
        "the PEM "
            + (isPublic ? "public" : "private")
            + " key is neither Ed25519 nor EC: "
            + last.getMessage(),
        last);
  }

  private static byte[] pemBody(String pem, String type) {
    String begin = "-----BEGIN " + type + "-----";
    String end = "-----END " + type + "-----";
    int b = pem.indexOf(begin);
    int e = pem.indexOf(end);
    if (b < 0 || e < b) {
      throw new IllegalArgumentException(
          "expected a PEM block '"
              + begin
              + "' ... '"
              + end
              + "'"
              + (type.equals("PRIVATE KEY")
                  ? " (PKCS#8, as written by 'openssl genpkey')"
                  : " (X.509 SubjectPublicKeyInfo, as written by 'openssl pkey -pubout')"));
    }
    try {
      return Base64.getMimeDecoder().decode(pem.substring(b + begin.length(), e));
    } catch (IllegalArgumentException ex) {
      throw new IllegalArgumentException(
          "the PEM block '" + begin + "' is not valid Base64: " + ex.getMessage(), ex);
    }
  }
}
