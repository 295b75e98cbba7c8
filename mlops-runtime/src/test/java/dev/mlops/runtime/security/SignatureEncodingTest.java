package dev.mlops.runtime.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlops.api.ArtifactFile;
import dev.mlops.api.ManifestSignature;
import dev.mlops.api.SignatureException;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A signature is accepted in one encoding only: Ed25519 exactly 64 bytes with canonical R and S,
 * ECDSA strict DER with a low S. Each twin or malformed form is a SignatureException naming what
 * was expected and found.
 */
class SignatureEncodingTest {

  private static final BigInteger L =
      BigInteger.ONE.shiftLeft(252).add(new BigInteger("27742317777372353535851937790883648493"));
  private static final BigInteger N =
      new BigInteger("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16);
  private static final Manifest MANIFEST =
      Manifest.of(
          "fraud", "model.onnx", List.of(new ArtifactFile("model.onnx", 1, "a".repeat(64))));

  private KeyPair ed;
  private KeyPair ec;
  private TrustedKeys keys;

  @BeforeEach
  void keys() throws Exception {
    ed = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    ec = g.generateKeyPair();
    keys = TrustedKeys.builder().add("ed", ed.getPublic()).add("ec", ec.getPublic()).build();
  }

  /** Finding: a 65-byte Ed25519 signature (a trailing 0x00) was accepted. */
  @Test
  void ed25519SignatureWithATrailingByteIsRefused() {
    ManifestSignature good = ManifestSigner.of("ed", ed.getPrivate()).sign(MANIFEST);
    assertThatCode(() -> keys.verify(MANIFEST, good, "m")).doesNotThrowAnyException();
    byte[] longer = Arrays.copyOf(good.value(), 65);

    assertThatThrownBy(() -> new ManifestSignature("ed", ManifestSignature.ED25519, longer))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("an Ed25519 signature is exactly 64 bytes but this one is 65");
    assertThatThrownBy(
            () ->
                ManifestSignature.ofBase64(
                    "ed", ManifestSignature.ED25519, Base64.getEncoder().encodeToString(longer)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("exactly 64 bytes but this one is 65");
    assertThatThrownBy(
            () ->
                new ManifestSignature(
                    "ed", ManifestSignature.ED25519, Arrays.copyOf(good.value(), 63)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("this one is 63");
    assertThatThrownBy(() -> ManifestSignature.ofBase64("ed", ManifestSignature.ED25519, "*"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not standard Base64");
  }

  @Test
  void ed25519SignatureWithANonCanonicalSOrRIsRefused() {
    byte[] sig = ManifestSigner.of("ed", ed.getPrivate()).sign(MANIFEST).value();
    // S + L is the same scalar mod L: the JDK refuses it too, but it must be a typed refusal.
    byte[] twin = sig.clone();
    byte[] s = Arrays.copyOfRange(sig, 32, 64);
    byte[] sPlusL = LittleEndian.bytes32(LittleEndian.toBigInteger(s).add(L));
    System.arraycopy(sPlusL, 0, twin, 32, 32);
    assertThatThrownBy(
            () ->
                keys.verify(MANIFEST, new ManifestSignature("ed", "Ed25519", twin), "models:/m/1"))
        .isInstanceOf(SignatureException.class)
        .hasMessageContaining("the Ed25519 signature of models:/m/1 by key 'ed' is refused")
        .hasMessageContaining("its S is not below the group order L");

    byte[] badR = sig.clone();
    Arrays.fill(badR, 0, 31, (byte) 0xff);
    badR[31] = 0x7f; // y = 2^255 - 1, above the field prime
    assertThatThrownBy(
            () -> keys.verify(MANIFEST, new ManifestSignature("ed", "Ed25519", badR), "m"))
        .isInstanceOf(SignatureException.class)
        .hasMessageContaining("its R is not a canonical point encoding");
  }

  /** Finding: the high-S twin (r, n - s) of an ECDSA signature was accepted (malleable). */
  @Test
  void ecdsaHighSTwinIsRefused() {
    ManifestSignature good = ManifestSigner.of("ec", ec.getPrivate()).sign(MANIFEST);
    assertThatCode(() -> keys.verify(MANIFEST, good, "m")).doesNotThrowAnyException();
    BigInteger[] rs = Der.ecdsaSignature(good.value());
    ManifestSignature twin =
        new ManifestSignature(
            "ec",
            ManifestSignature.ECDSA_P256_SHA256,
            Der.ecdsaSignature(rs[0], N.subtract(rs[1])));

    assertThatThrownBy(() -> keys.verify(MANIFEST, twin, "models:/m/1"))
        .isInstanceOf(SignatureException.class)
        .hasMessageContaining("the SHA256withECDSA signature of models:/m/1 by key 'ec' is refused")
        .hasMessageContaining("its S is high (s > n/2); expected a low-S signature");
  }

  @Test
  void manifestSignerMakesOnlyLowSSignatures() {
    ManifestSigner signer = ManifestSigner.of("ec", ec.getPrivate());
    for (int i = 0; i < 64; i++) {
      // Without normalisation about half of these would have a high S.
      ManifestSignature sig = signer.sign(MANIFEST);
      assertThat(Der.ecdsaSignature(sig.value())[1]).isLessThanOrEqualTo(N.shiftRight(1));
      assertThatCode(() -> keys.verify(MANIFEST, sig, "m")).doesNotThrowAnyException();
    }
  }

  @Test
  void ecdsaSignatureMustBeStrictDerWithRAndSInRange() {
    byte[] der = ManifestSigner.of("ec", ec.getPrivate()).sign(MANIFEST).value();
    BigInteger[] rs = Der.ecdsaSignature(der);
    String one = "020101";
    List<String[]> refused =
        List.of(
            new String[] {HexFormat.of().formatHex(der) + "00", "SEQUENCE length"},
            new String[] {"3007" + one + one + "00", "1 bytes follow the two integers"},
            new String[] {"3007" + "02020001" + one, "its r has a superfluous leading zero"},
            new String[] {"3006" + "020180" + one, "its r is negative"},
            new String[] {"3006" + "030101" + one, "its r is not a DER INTEGER"},
            new String[] {"308106" + one + one, "a long-form length"},
            new String[] {"3006" + "020100" + one, "its r is not in [1, n - 1]"},
            new String[] {
              HexFormat.of().formatHex(Der.ecdsaSignature(rs[0], N)), "its s is not in [1, n - 1]"
            },
            new String[] {"3106" + one + one, "it does not start with a DER SEQUENCE"});
    for (String[] c : refused) {
      ManifestSignature sig =
          new ManifestSignature(
              "ec", ManifestSignature.ECDSA_P256_SHA256, HexFormat.of().parseHex(c[0]));
      assertThatThrownBy(() -> keys.verify(MANIFEST, sig, "m"))
          .as(c[0])
          .isInstanceOf(SignatureException.class)
          .hasMessageContaining(c[1]);
    }
    assertThatThrownBy(
            () -> new ManifestSignature("ec", ManifestSignature.ECDSA_P256_SHA256, new byte[73]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("8 to 72 bytes but this one is 73");
  }

  /** Random bytes and random damage are refused as SignatureException, never anything else. */
  @Test
  void randomSignatureBytesFailOnlyAsSignatureException() {
    Random random = new Random(7);
    byte[] ecGood = ManifestSigner.of("ec", ec.getPrivate()).sign(MANIFEST).value();
    byte[] edGood = ManifestSigner.of("ed", ed.getPrivate()).sign(MANIFEST).value();
    int refused = 0;
    for (int i = 0; i < 2000; i++) {
      boolean isEc = i % 2 == 0;
      byte[] v = (isEc ? ecGood : edGood).clone();
      if (random.nextBoolean()) {
        random.nextBytes(v);
      } else {
        v[random.nextInt(v.length)] ^= (byte) (1 + random.nextInt(255));
      }
      ManifestSignature sig =
          new ManifestSignature(
              isEc ? "ec" : "ed",
              isEc ? ManifestSignature.ECDSA_P256_SHA256 : ManifestSignature.ED25519,
              v);
      try {
        keys.verify(MANIFEST, sig, "m");
      } catch (SignatureException expected) {
        refused++;
      }
    }
    assertThat(refused).isEqualTo(2000);
  }
}
