package dev.mlops.cli;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A progress bar on stderr for bytes read, redrawn in place at most every 100 ms; silent when off.
 * Also hashes what passes through it, so the caller can check that the bytes the registry recorded
 * are the bytes it read.
 */
final class Progress {

  /** When to draw: {@code auto} on a terminal for files of 8 MiB or more. */
  enum Mode {
    auto,
    always,
    never
  }

  private static final long AUTO_MIN_BYTES = 8L << 20;

  private final PrintWriter err;
  private final String label;
  private final long total;
  private final boolean on;
  private long done;
  private long lastDraw;

  Progress(PrintWriter err, Mode mode, String label, long total) {
    this.err = err;
    this.label = label;
    this.total = total;
    this.on =
        switch (mode) {
          case always -> true;
          case never -> false;
          case auto -> System.console() != null && total >= AUTO_MIN_BYTES;
        };
  }

  void add(long n) {
    done += n;
    long now = System.nanoTime();
    if (on && now - lastDraw > 100_000_000L) {
      lastDraw = now;
      draw();
    }
  }

  void finish() {
    if (on) {
      draw();
      err.println();
      err.flush();
    }
  }

  private void draw() {
    int pct = total <= 0 ? 100 : (int) Math.min(100, done * 100 / total);
    int filled = pct * 30 / 100;
    err.print(
        String.format(
            "\r%s [%s%s] %3d%% %s / %s",
            label, "#".repeat(filled), ".".repeat(30 - filled), pct, size(done), size(total)));
    err.flush();
  }

  static String size(long bytes) {
    if (bytes < 1024 * 1024) {
      return String.format("%.1f KiB", bytes / 1024.0);
    }
    return String.format("%.1f MiB", bytes / (1024.0 * 1024));
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  /** A stream that counts into the bar and hashes what it reads. */
  static final class Counting extends FilterInputStream {
    private final Progress progress;
    private final MessageDigest md = sha256();
    private long count;

    Counting(InputStream in, Progress progress) {
      super(in);
      this.progress = progress;
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0) {
        md.update((byte) b);
        count++;
        progress.add(1);
      }
      return b;
    }

    @Override
    public int read(byte[] buf, int off, int len) throws IOException {
      int n = super.read(buf, off, len);
      if (n > 0) {
        md.update(buf, off, n);
        count += n;
        progress.add(n);
      }
      return n;
    }

    long count() {
      return count;
    }

    String sha256Hex() {
      return HexFormat.of().formatHex(md.digest());
    }
  }
}
