package dev.mlops.runtime.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactFile;
import dev.mlops.api.ManifestSignature;
import dev.mlops.api.SignatureException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Keys are trusted only in one strict form: PEM with exactly one block of the expected type and
 * nothing but Base64 inside, Ed25519 keys of the prime-order subgroup in canonical encoding, EC
 * points on the curve. Every refusal is an IllegalArgumentException naming what was found.
 */
class TrustedKeysTest {

  @TempDir Path tmp;

  private static final String ED25519_SPKI = "302a300506032b6570032100";
  private static final BigInteger P =
      BigInteger.ONE.shiftLeft(255).subtract(BigInteger.valueOf(19));
  private static final Manifest MANIFEST =
      Manifest.of(
          "fraud", "model.onnx", List.of(new ArtifactFile("model.onnx", 1, "a".repeat(64))));

  static PublicKey ed25519(String hex32) throws Exception {
    return KeyFactory.getInstance("Ed25519")
        .generatePublic(new X509EncodedKeySpec(HexFormat.of().parseHex(ED25519_SPKI + hex32)));
  }

  static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }

  /**
   * Finding: a small-order Ed25519 public key was trusted, and under it one forged signature (R the
   * identity, S = 0) verified every manifest. The JDK accepts such keys and such signatures; the
   * key is refused when it is added, by key and by PEM.
   */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "0100000000000000000000000000000000000000000000000000000000000000", // identity, order 1
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // (0, -1), order 2
        "0000000000000000000000000000000000000000000000000000000000000000", // order 4
        "0000000000000000000000000000000000000000000000000000000000000080", // order 4
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", // order 8
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa", // order 8
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", // order 8
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85" // order 8
      })
  void smallOrderEd25519KeyIsRefusedSoNoForgedSignatureCanVerify(String key) throws Exception {
    PublicKey weak = ed25519(key);
    assertThatThrownBy(() -> TrustedKeys.builder().add("k", weak))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("the Ed25519 public key is refused: it is a point of small order");
    assertThatThrownBy(
            () -> TrustedKeys.builder().addPem("k", pem("PUBLIC KEY", weak.getEncoded())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("small order");
  }

  @Test
  void forgedSignatureUnderTheIdentityKeyCannotBeUsedBecauseTheKeyIsNeverTrusted()
      throws Exception {
    PublicKey identity = ed25519("01" + "00".repeat(31));
    byte[] forged = new byte[64];
    forged[0] = 1; // R = the identity point, S = 0
    // What the attack relied on: the JDK alone accepts the forgery for any message.
    java.security.Signature jdk = java.security.Signature.getInstance("Ed25519");
    jdk.initVerify(identity);
    jdk.update(MANIFEST.bytes());
    boolean jdkAccepts = jdk.verify(forged);
    assertThatThrownBy(() -> TrustedKeys.builder().add("k", identity).build())
        .as("the JDK %s the forgery", jdkAccepts ? "accepts" : "refuses")
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void ed25519KeyWithASmallOrderComponentOrANonCanonicalEncodingIsRefused() throws Exception {
    KeyPair good = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    byte[] spki = good.getPublic().getEncoded();
    byte[] a = Arrays.copyOfRange(spki, 12, 44);
    assertThatCode(() -> TrustedKeys.builder().add("k", good.getPublic()))
        .doesNotThrowAnyException();

    // A + (0, -1) = (-x, -y): y becomes p - y and the sign of x flips.
    BigInteger y = LittleEndian.toBigInteger(a).clearBit(255);
    byte[] mixed = LittleEndian.bytes32(P.subtract(y));
    mixed[31] |= (byte) ((a[31] & 0x80) ^ 0x80);
    assertThatThrownBy(
            () -> TrustedKeys.builder().add("k", ed25519(HexFormat.of().formatHex(mixed))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not in the prime-order subgroup");

    // y + p encodes the same y, and so the same point, a second way.
    BigInteger yPlusP = y.add(P);
    if (yPlusP.bitLength() <= 255) {
      byte[] twin = LittleEndian.bytes32(yPlusP);
      twin[31] |= (byte) (a[31] & 0x80);
      assertThatThrownBy(
              () -> TrustedKeys.builder().add("k", ed25519(HexFormat.of().formatHex(twin))))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("not canonical");
    }
    // The identity written with y = p + 1, and with the sign bit of x = 0 set.
    for (String nonCanonical :
        List.of(
            "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            "0100000000000000000000000000000000000000000000000000000000000080")) {
      assertThatThrownBy(() -> TrustedKeys.builder().add("k", ed25519(nonCanonical)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("encoding is not canonical");
    }
    // A y for which no x exists: not a point at all.
    byte[] offCurve = LittleEndian.bytes32(yWithoutX());
    assertThatThrownBy(
            () -> TrustedKeys.builder().add("k", ed25519(HexFormat.of().formatHex(offCurve))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a point of the curve");
  }

  @Test
  void ecPublicKeyOffTheCurveIsRefused() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    ECPublicKey good = (ECPublicKey) g.generateKeyPair().getPublic();
    PublicKey off =
        KeyFactory.getInstance("EC")
            .generatePublic(
                new ECPublicKeySpec(
                    new ECPoint(
                        good.getW().getAffineX(), good.getW().getAffineY().add(BigInteger.ONE)),
                    good.getParams()));
    assertThatThrownBy(() -> TrustedKeys.builder().add("k", off))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(
            "SHA256withECDSA public key is refused: it is not a point of the curve");
    assertThatThrownBy(() -> TrustedKeys.builder().addPem("k", pem("PUBLIC KEY", off.getEncoded())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a point of the curve");
  }

  /** Finding: PEM with garbage around it, junk inside or two keys (the first used) was accepted. */
  @Test
  void pemIsParsedStrictlyAndEachRefusalNamesWhatWasFound() throws Exception {
    KeyPair kp = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    KeyPair other = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    String good = pem("PUBLIC KEY", kp.getPublic().getEncoded());
    String b64 = Base64.getEncoder().encodeToString(kp.getPublic().getEncoded());

    // Accepted: the block, whitespace around it, CRLF line ends.
    for (String ok :
        List.of(good, "\n  \t" + good + "\n\n", good.replace("\n", "\r\n"), good.strip())) {
      assertThat(TrustedKeys.builder().addPem("k", ok).build().key("k")).contains(kp.getPublic());
    }

    List<String[]> refused =
        List.of(
            new String[] {"garbage\n" + good, "found 'garbage' before the PEM block"},
            new String[] {good + "trailer", "found 'trailer' after '-----END PUBLIC KEY-----'"},
            new String[] {
              good.replace(b64.substring(0, 10), b64.substring(0, 5) + "*" + b64.substring(5, 10)),
              "found '*' U+002A on line 2 of the PEM block 'PUBLIC KEY'"
            },
            new String[] {
              good.replace(b64.substring(0, 10), b64.substring(0, 5) + " " + b64.substring(5, 10)),
              "whitespace inside the Base64"
            },
            new String[] {
              good + pem("PUBLIC KEY", other.getPublic().getEncoded()),
              "found 2 PEM blocks ['-----BEGIN PUBLIC KEY-----', '-----BEGIN PUBLIC KEY-----']"
            },
            new String[] {
              pem("PRIVATE KEY", kp.getPrivate().getEncoded()),
              "found a PEM block '-----BEGIN PRIVATE KEY-----' (a private key"
            },
            new String[] {
              good.replace("END PUBLIC KEY", "END PRIVATE KEY"),
              "found '-----END PRIVATE KEY-----' where '-----END PUBLIC KEY-----' belongs"
            },
            new String[] {
              good.substring(0, good.indexOf("-----END")),
              "found no '-----END PUBLIC KEY-----' line"
            },
            new String[] {"", "found no text; expected '-----BEGIN PUBLIC KEY-----'"},
            new String[] {"not a pem", "found no PEM block in 'not a pem'"},
            new String[] {
              "-----BEGIN PUBLIC KEY-----\nProc-Type: 4,ENCRYPTED\n\n"
                  + b64
                  + "\n-----END PUBLIC KEY-----",
              "PEM headers"
            },
            new String[] {
              "-----BEGIN PUBLIC KEY-----\n" + b64.replace("=", "") + "\n-----END PUBLIC KEY-----",
              "the Base64 of the PEM block 'PUBLIC KEY' is malformed"
            },
            new String[] {
              "-----BEGIN PUBLIC KEY-----\n\n-----END PUBLIC KEY-----",
              "the Base64 of the PEM block 'PUBLIC KEY' is empty"
            },
            new String[] {
              "-----BEGIN PUBLIC KEY-----" + b64 + "\n-----END PUBLIC KEY-----",
              "on the line of '-----BEGIN PUBLIC KEY-----'"
            },
            new String[] {
              pem("PUBLIC KEY", Arrays.copyOf(kp.getPublic().getEncoded(), 45)),
              "the PEM public key is 45 bytes but its DER length says 44 (bytes follow the key)"
            },
            new String[] {
              "-----BEGIN PUBLIC KEY-----\n"
                  + "A".repeat(Pem.MAX_CHARS)
                  + "\n-----END PUBLIC KEY-----",
              "more than 16384"
            });
    for (String[] c : refused) {
      assertThatThrownBy(() -> TrustedKeys.builder().addPem("k", c[0]))
          .as(c[1])
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(c[1]);
    }
  }

  @Test
  void privateKeyPemIsParsedAsStrictlyAndNamesTheFile() throws Exception {
    KeyPair kp = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    String good = pem("PRIVATE KEY", kp.getPrivate().getEncoded());
    Path file = Files.writeString(tmp.resolve("key.pem"), good);
    assertThat(ManifestSigner.fromPem("k", file).algorithm()).isEqualTo(ManifestSignature.ED25519);

    Path params =
        Files.writeString(
            tmp.resolve("params.pem"),
            "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"
                + good);
    assertThatThrownBy(() -> ManifestSigner.fromPem("k", params))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(params.toString())
        .hasMessageContaining("found 2 PEM blocks");
    Path sec1 =
        Files.writeString(tmp.resolve("sec1.pem"), good.replace("PRIVATE KEY", "EC PRIVATE KEY"));
    assertThatThrownBy(() -> ManifestSigner.fromPem("k", sec1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'-----BEGIN EC PRIVATE KEY-----' (a SEC1 EC key; convert it with");
    Path encrypted =
        Files.writeString(
            tmp.resolve("enc.pem"), good.replace("PRIVATE KEY", "ENCRYPTED PRIVATE KEY"));
    assertThatThrownBy(() -> ManifestSigner.fromPem("k", encrypted))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("an encrypted key");
    Path nonAscii =
        Files.write(
            tmp.resolve("latin.pem"), ("\u00e9" + good).getBytes(StandardCharsets.ISO_8859_1));
    assertThatThrownBy(() -> ManifestSigner.fromPem("k", nonAscii))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("found '\\u00E9' before the PEM block");
  }

  /** Hostile input fails with IllegalArgumentException, never an Error or another exception. */
  @Test
  void hugeAndMalformedPemAndAbsurdDerLengthsFailAsIllegalArgument() throws Exception {
    Path huge = tmp.resolve("huge.pem");
    try (var out = Files.newOutputStream(huge)) {
      byte[] chunk = new byte[1 << 20];
      Arrays.fill(chunk, (byte) 'A');
      for (int i = 0; i < 8; i++) {
        out.write(chunk);
      }
    }
    assertThatThrownBy(() -> TrustedKeys.builder().addPem("k", huge))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("holds more than 16384 bytes");
    assertThatThrownBy(() -> ManifestSigner.fromPem("k", huge))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("holds more than 16384 bytes");
    assertThatThrownBy(() -> TrustedKeys.builder().addPem("k", "A".repeat(5_000_000)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("more than 16384");

    List<byte[]> absurd =
        List.of(
            HexFormat.of().parseHex("3084ffffffff00"),
            HexFormat.of().parseHex("3084000000ff30"),
            HexFormat.of().parseHex("30ff"),
            HexFormat.of().parseHex("3080"),
            HexFormat.of().parseHex("3081050000000000"),
            HexFormat.of().parseHex("302a3005060" + "3" + "2b6570038421000000"),
            HexFormat.of().parseHex("04"));
    for (byte[] der : absurd) {
      assertThatThrownBy(() -> TrustedKeys.builder().addPem("k", pem("PUBLIC KEY", der)))
          .as(HexFormat.of().formatHex(der))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> Keys.privateKeyFromPem(pem("PRIVATE KEY", der)))
          .as(HexFormat.of().formatHex(der))
          .isInstanceOf(IllegalArgumentException.class);
    }

    // Random damage to real PEM keys: accepted unchanged or refused as IllegalArgumentException.
    KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
    ec.initialize(new ECGenParameterSpec("secp256r1"));
    List<String> pems = new ArrayList<>();
    for (KeyPair kp :
        List.of(KeyPairGenerator.getInstance("Ed25519").generateKeyPair(), ec.generateKeyPair())) {
      pems.add(pem("PUBLIC KEY", kp.getPublic().getEncoded()));
    }
    Random random = new Random(42);
    int refusedCount = 0;
    for (int i = 0; i < 400; i++) {
      String base = pems.get(i % 2);
      byte[] der = Base64.getMimeDecoder().decode(base.split("-----")[2]);
      byte[] damaged = der.clone();
      int edits = 1 + random.nextInt(3);
      for (int e = 0; e < edits; e++) {
        damaged[random.nextInt(damaged.length)] = (byte) random.nextInt(256);
      }
      if (random.nextInt(4) == 0) {
        damaged = Arrays.copyOf(damaged, random.nextInt(damaged.length + 8));
      }
      String text = pem("PUBLIC KEY", damaged);
      try {
        TrustedKeys.builder().addPem("k", text);
      } catch (IllegalArgumentException expected) {
        refusedCount++;
      }
    }
    assertThat(refusedCount).as("damaged keys refused").isGreaterThan(240);
  }

  @Test
  void keyIdsAreCheckedOnceAndOnlyOnce() throws Exception {
    PublicKey k = KeyPairGenerator.getInstance("Ed25519").generateKeyPair().getPublic();
    assertThatThrownBy(() -> TrustedKeys.builder().add("bad id", k))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("key id 'bad id' is invalid");
    assertThatThrownBy(() -> TrustedKeys.builder().add("k", k).add("k", k))
        .isInstanceOf(IllegalStateException.class);
    // A key from the JDK's own generator is trusted and verifies its own signatures.
    TrustedKeys keys = TrustedKeys.builder().add("k", k).build();
    assertThatThrownBy(
            () ->
                keys.verify(
                    MANIFEST,
                    new ManifestSignature("k", ManifestSignature.ED25519, new byte[64]),
                    "m"))
        .isInstanceOf(SignatureException.class);
  }

  /** The least y >= 2 with no x on the curve: (y^2 - 1) / (d y^2 + 1) is not a square mod p. */
  private static BigInteger yWithoutX() {
    BigInteger d =
        BigInteger.valueOf(-121665).multiply(BigInteger.valueOf(121666).modInverse(P)).mod(P);
    for (BigInteger y = BigInteger.TWO; ; y = y.add(BigInteger.ONE)) {
      BigInteger y2 = y.multiply(y).mod(P);
      BigInteger x2 =
          y2.subtract(BigInteger.ONE)
              .multiply(d.multiply(y2).add(BigInteger.ONE).modInverse(P))
              .mod(P);
      if (!x2.modPow(P.subtract(BigInteger.ONE).shiftRight(1), P).equals(BigInteger.ONE)
          && x2.signum() != 0) {
        return y;
      }
    }
  }
}
