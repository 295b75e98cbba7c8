package dev.mlops.runtime.security;

import java.math.BigInteger;

/** Little-endian integers, as Ed25519 encodes its points and scalars. */
final class LittleEndian {

  private LittleEndian() {}

  /** The unsigned integer whose little-endian bytes are {@code b}. */
  static BigInteger toBigInteger(byte[] b) {
    byte[] be = new byte[b.length];
    for (int i = 0; i < b.length; i++) {
      be[i] = b[b.length - 1 - i];
    }
    return new BigInteger(1, be);
  }

  /** The 32 little-endian bytes of {@code v} (its low 256 bits). */
  static byte[] bytes32(BigInteger v) {
    byte[] be = v.toByteArray();
    byte[] out = new byte[32];
    for (int i = 0; i < 32 && i < be.length; i++) {
      out[i] = be[be.length - 1 - i];
    }
    return out;
  }
}
