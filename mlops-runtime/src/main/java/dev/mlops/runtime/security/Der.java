package dev.mlops.runtime.security;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;

/**
 * The little DER the keys and ECDSA signatures need, strict: minimal lengths, no trailing bytes.
 */
final class Der {

  private Der() {}

  /**
   * Checks that {@code der} is exactly one SEQUENCE whose length field is minimal and matches the
   * bytes that follow it: the JDK's key parsers ignore bytes after the key.
   *
   * @throws IllegalArgumentException naming what is wrong
   */
  static void checkSingleSequence(byte[] der, String what) {
    if (der.length < 2 || der[0] != 0x30) {
      throw new IllegalArgumentException(
          what + " is not a DER SEQUENCE (it starts with " + hexStart(der) + ")");
    }
    int first = der[1] & 0xff;
    long length;
    int header;
    if (first < 0x80) {
      length = first;
      header = 2;
    } else {
      int n = first & 0x7f;
      if (n == 0 || n > 4 || der.length < 2 + n) {
        throw new IllegalArgumentException(
            what + " has an invalid DER length field (0x" + Integer.toHexString(first) + ")");
      }
      length = 0;
      for (int i = 0; i < n; i++) {
        length = (length << 8) | (der[2 + i] & 0xff);
      }
      header = 2 + n;
      if (length < 0x80 || (der[2] & 0xff) == 0) {
        throw new IllegalArgumentException(what + " has a non-minimal DER length field");
      }
    }
    if (length != der.length - header) {
      throw new IllegalArgumentException(
          what
              + " is "
              + der.length
              + " bytes but its DER length says "
              + (length + header)
              + (length < der.length - header ? " (bytes follow the key)" : ""));
    }
  }

  /**
   * The {@code (r, s)} of a DER {@code ECDSA-Sig-Value}: a SEQUENCE of two positive INTEGERs in
   * minimal form, and nothing else.
   *
   * @throws IllegalArgumentException naming what is wrong
   */
  static BigInteger[] ecdsaSignature(byte[] der) {
    if (der.length < 8) {
      throw new IllegalArgumentException("it is " + der.length + " bytes, too short for DER");
    }
    if (der[0] != 0x30) {
      throw new IllegalArgumentException("it does not start with a DER SEQUENCE");
    }
    if ((der[1] & 0xff) != der.length - 2) {
      throw new IllegalArgumentException(
          "its SEQUENCE length is "
              + (der[1] & 0xff)
              + " but "
              + (der.length - 2)
              + " bytes follow"
              + ((der[1] & 0x80) != 0 ? " (a long-form length, which DER forbids here)" : ""));
    }
    int[] pos = {2};
    BigInteger r = integer(der, pos, "r");
    BigInteger s = integer(der, pos, "s");
    if (pos[0] != der.length) {
      throw new IllegalArgumentException((der.length - pos[0]) + " bytes follow the two integers");
    }
    return new BigInteger[] {r, s};
  }

  private static BigInteger integer(byte[] der, int[] pos, String name) {
    int p = pos[0];
    if (p + 2 > der.length || der[p] != 0x02) {
      throw new IllegalArgumentException("its " + name + " is not a DER INTEGER");
    }
    int len = der[p + 1] & 0xff;
    if (len == 0 || len > 33 || p + 2 + len > der.length) {
      throw new IllegalArgumentException(
          "its " + name + " has the invalid length " + len + " (expected 1 to 33 bytes)");
    }
    int b0 = der[p + 2] & 0xff;
    if ((b0 & 0x80) != 0) {
      throw new IllegalArgumentException("its " + name + " is negative");
    }
    if (b0 == 0 && len > 1 && (der[p + 3] & 0x80) == 0) {
      throw new IllegalArgumentException("its " + name + " has a superfluous leading zero");
    }
    byte[] v = new byte[len];
    System.arraycopy(der, p + 2, v, 0, len);
    pos[0] = p + 2 + len;
    return new BigInteger(1, v);
  }

  /** The DER {@code ECDSA-Sig-Value} of {@code (r, s)}, both positive and at most 256 bits. */
  static byte[] ecdsaSignature(BigInteger r, BigInteger s) {
    byte[] rb = r.toByteArray();
    byte[] sb = s.toByteArray();
    ByteArrayOutputStream out = new ByteArrayOutputStream(72);
    out.write(0x30);
    out.write(4 + rb.length + sb.length);
    out.write(0x02);
    out.write(rb.length);
    out.writeBytes(rb);
    out.write(0x02);
    out.write(sb.length);
    out.writeBytes(sb);
    return out.toByteArray();
  }

  private static String hexStart(byte[] b) {
    if (b.length == 0) {
      return "nothing";
    }
    StringBuilder sb = new StringBuilder("0x");
    for (int i = 0; i < Math.min(4, b.length); i++) {
      sb.append(String.format("%02x", b[i] & 0xff));
    }
    return sb.toString();
  }
}
