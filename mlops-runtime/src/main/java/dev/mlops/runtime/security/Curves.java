package dev.mlops.runtime.security;

import java.math.BigInteger;
import java.security.spec.ECFieldFp;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;

/**
 * The curve arithmetic the JDK leaves out: whether an Ed25519 public key is a canonical encoding of
 * a point of the prime-order subgroup, whether an Ed25519 signature's R and S are canonical, and
 * whether a P-256 public key is a point of the curve. The JDK accepts a small-order Ed25519 key,
 * under which one forged signature verifies every message. Public values only, so plain {@link
 * BigInteger} (not constant-time) is fine.
 */
final class Curves {

  /** The Ed25519 field prime, 2^255 - 19. */
  static final BigInteger P = BigInteger.ONE.shiftLeft(255).subtract(BigInteger.valueOf(19));

  /**
   * The order of the Ed25519 base point's subgroup, 2^252 + 27742317777372353535851937790883648493.
   */
  static final BigInteger L =
      BigInteger.ONE.shiftLeft(252).add(new BigInteger("27742317777372353535851937790883648493"));

  private static final BigInteger TWO = BigInteger.TWO;
  private static final BigInteger D =
      BigInteger.valueOf(-121665).multiply(BigInteger.valueOf(121666).modInverse(P)).mod(P);
  private static final BigInteger SQRT_M1 = TWO.modPow(P.subtract(BigInteger.ONE).shiftRight(2), P);

  private Curves() {}

  private static final BigInteger D2 = D.add(D).mod(P);

  /**
   * A point of the twisted Edwards curve -x^2 + y^2 = 1 + d x^2 y^2 in extended coordinates (x =
   * X/Z, y = Y/Z, x y = T/Z), so that adding needs no inversion (RFC 8032, 5.1.4).
   */
  private record Point(BigInteger x, BigInteger y, BigInteger z, BigInteger t) {
    static final Point IDENTITY =
        new Point(BigInteger.ZERO, BigInteger.ONE, BigInteger.ONE, BigInteger.ZERO);

    static Point affine(BigInteger x, BigInteger y) {
      return new Point(x, y, BigInteger.ONE, x.multiply(y).mod(P));
    }

    /** The complete addition law: no special case for doubling or the identity. */
    Point plus(Point o) {
      BigInteger a = y.subtract(x).multiply(o.y.subtract(o.x)).mod(P);
      BigInteger b = y.add(x).multiply(o.y.add(o.x)).mod(P);
      BigInteger c = t.multiply(D2).multiply(o.t).mod(P);
      BigInteger d = z.multiply(o.z).shiftLeft(1).mod(P);
      BigInteger e = b.subtract(a);
      BigInteger f = d.subtract(c);
      BigInteger g = d.add(c);
      BigInteger h = b.add(a);
      return new Point(
          e.multiply(f).mod(P), g.multiply(h).mod(P), f.multiply(g).mod(P), e.multiply(h).mod(P));
    }

    Point times(BigInteger k) {
      Point r = IDENTITY;
      for (int i = k.bitLength() - 1; i >= 0; i--) {
        r = r.plus(r);
        if (k.testBit(i)) {
          r = r.plus(this);
        }
      }
      return r;
    }

    boolean isIdentity() {
      return x.signum() == 0 && y.equals(z);
    }
  }

  /**
   * Why the 32-byte Ed25519 public key {@code a} must not be trusted, or {@code null} if it is a
   * canonical encoding (RFC 8032, 5.1.3) of a point of the prime-order subgroup.
   */
  static String ed25519KeyProblem(byte[] a) {
    if (a.length != 32) {
      return "it is " + a.length + " bytes; expected 32";
    }
    BigInteger y = littleEndian(a).clearBit(255);
    boolean xOdd = (a[31] & 0x80) != 0;
    if (y.compareTo(P) >= 0) {
      return "its encoding is not canonical (y >= 2^255 - 19)";
    }
    BigInteger y2 = y.multiply(y).mod(P);
    BigInteger u = y2.subtract(BigInteger.ONE).mod(P);
    BigInteger v = D.multiply(y2).add(BigInteger.ONE).mod(P);
    BigInteger x2 = u.multiply(v.modInverse(P)).mod(P);
    BigInteger x = x2.modPow(P.add(BigInteger.valueOf(3)).shiftRight(3), P);
    if (!x.multiply(x).mod(P).equals(x2)) {
      x = x.multiply(SQRT_M1).mod(P);
      if (!x.multiply(x).mod(P).equals(x2)) {
        return "it is not a point of the curve";
      }
    }
    if (x.signum() == 0 && xOdd) {
      return "its encoding is not canonical (x = 0 with the sign bit set)";
    }
    if (x.testBit(0) != xOdd) {
      x = P.subtract(x);
    }
    Point point = Point.affine(x, y);
    if (point.times(BigInteger.valueOf(8)).isIdentity()) {
      return "it is a point of small order, under which forged signatures verify";
    }
    if (!point.times(L).isIdentity()) {
      return "it is not in the prime-order subgroup (it has a small-order component)";
    }
    return null;
  }

  /**
   * Why the 64-byte Ed25519 signature {@code sig} is not canonical, or {@code null}: S must be
   * below L (RFC 8032, 5.1.7) and R's y below 2^255 - 19, so that one signature has one encoding.
   */
  static String ed25519SignatureProblem(byte[] sig) {
    byte[] r = new byte[32];
    byte[] s = new byte[32];
    System.arraycopy(sig, 0, r, 0, 32);
    System.arraycopy(sig, 32, s, 0, 32);
    if (littleEndian(s).compareTo(L) >= 0) {
      return "its S is not below the group order L (a non-canonical twin of a signature)";
    }
    if (littleEndian(r).clearBit(255).compareTo(P) >= 0) {
      return "its R is not a canonical point encoding";
    }
    return null;
  }

  /** Why {@code w} is not a point of the curve {@code params} other than infinity, or null. */
  static String ecPointProblem(ECPoint w, ECParameterSpec params) {
    if (w == null || w.equals(ECPoint.POINT_INFINITY)) {
      return "it is the point at infinity";
    }
    BigInteger p = ((ECFieldFp) params.getCurve().getField()).getP();
    BigInteger x = w.getAffineX();
    BigInteger y = w.getAffineY();
    if (x.signum() < 0 || y.signum() < 0 || x.compareTo(p) >= 0 || y.compareTo(p) >= 0) {
      return "its coordinates are not reduced modulo the field prime";
    }
    BigInteger lhs = y.multiply(y).mod(p);
    BigInteger rhs =
        x.pow(3).add(params.getCurve().getA().multiply(x)).add(params.getCurve().getB()).mod(p);
    if (!lhs.equals(rhs)) {
      return "it is not a point of the curve";
    }
    return null;
  }

  private static BigInteger littleEndian(byte[] b) {
    byte[] be = new byte[b.length];
    for (int i = 0; i < b.length; i++) {
      be[i] = b[b.length - 1 - i];
    }
    return new BigInteger(1, be);
  }
}
