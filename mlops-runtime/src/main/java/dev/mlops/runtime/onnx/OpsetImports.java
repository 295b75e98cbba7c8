package dev.mlops.runtime.onnx;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Reads a model's opset imports ({@code ModelProto.opset_import}, field 8: {@code
 * OperatorSetIdProto} with domain in field 1 and version in field 2) without reading the rest: the
 * graph, however large, is skipped by its length. Used only to word a load error, so a file it
 * cannot read yields what was found before the fault.
 */
final class OpsetImports {

  private static final int OPSET_IMPORT = 8;
  private static final int MAX_IMPORT_BYTES = 64 * 1024;
  private static final int MAX_IMPORTS = 1024;

  private OpsetImports() {}

  /**
   * The version the model imports for {@code domain} ({@code ai.onnx} or empty for the default
   * one).
   */
  static OptionalLong version(Path file, String domain) {
    Long v = read(file).get(NativeErrors.domain(domain));
    return v == null ? OptionalLong.empty() : OptionalLong.of(v);
  }

  /**
   * Domain (the default one as {@code ai.onnx}) to version, in file order; the last import of a
   * domain wins.
   */
  static Map<String, Long> read(Path file) {
    Map<String, Long> out = new LinkedHashMap<>();
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      Reader r = new Reader(ch);
      while (r.pos < r.size && out.size() < MAX_IMPORTS) {
        long tag = r.varint();
        int wire = (int) (tag & 7);
        long field = tag >>> 3;
        switch (wire) {
          case 0 -> r.varint();
          case 1 -> r.skip(8);
          case 5 -> r.skip(4);
          case 2 -> {
            long len = r.varint();
            if (field == OPSET_IMPORT && len <= MAX_IMPORT_BYTES) {
              opset(r.bytes((int) len), out);
            } else {
              r.skip(len);
            }
          }
          default -> {
            return out; // groups do not occur in a ModelProto; not an ONNX model
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      // A message helper: a damaged tail leaves the imports read before it.
    }
    return out;
  }

  private static void opset(byte[] b, Map<String, Long> out) {
    ByteBuffer in = ByteBuffer.wrap(b);
    String domain = "";
    Long version = null;
    while (in.hasRemaining()) {
      long tag = varint(in);
      int wire = (int) (tag & 7);
      long field = tag >>> 3;
      if (wire == 2) {
        int len = Math.toIntExact(varint(in));
        byte[] s = new byte[len];
        in.get(s);
        if (field == 1) {
          domain = new String(s, StandardCharsets.UTF_8);
        }
      } else if (wire == 0) {
        long v = varint(in);
        if (field == 2) {
          version = v;
        }
      } else if (wire == 1) {
        in.position(in.position() + 8);
      } else if (wire == 5) {
        in.position(in.position() + 4);
      } else {
        return;
      }
    }
    if (version != null) {
      out.put(NativeErrors.domain(domain), version);
    }
  }

  private static long varint(ByteBuffer in) {
    long v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      byte b = in.get();
      v |= (long) (b & 0x7F) << shift;
      if (b >= 0) {
        return v;
      }
    }
    throw new IllegalArgumentException("varint longer than 10 bytes");
  }

  /** Positional reads through a small window, so skipping the graph reads none of it. */
  private static final class Reader {
    private final FileChannel ch;
    private final long size;
    private final ByteBuffer window = ByteBuffer.allocate(8 * 1024);
    private long windowStart = -1;
    private long pos;

    Reader(FileChannel ch) throws IOException {
      this.ch = ch;
      this.size = ch.size();
    }

    int next() throws IOException {
      if (pos >= size) {
        throw new IOException("unexpected end of file at byte " + pos);
      }
      if (windowStart < 0 || pos < windowStart || pos >= windowStart + window.limit()) {
        window.clear();
        windowStart = pos;
        int n;
        do {
          n = ch.read(window, windowStart + window.position());
        } while (n > 0 && window.hasRemaining());
        window.flip();
      }
      return window.get((int) (pos++ - windowStart)) & 0xFF;
    }

    long varint() throws IOException {
      long v = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        int b = next();
        v |= (long) (b & 0x7F) << shift;
        if (b < 0x80) {
          return v;
        }
      }
      throw new IOException("varint longer than 10 bytes at byte " + pos);
    }

    void skip(long n) throws IOException {
      if (n < 0 || n > size - pos) {
        throw new IOException("field of " + n + " bytes overruns the file at byte " + pos);
      }
      pos += n;
    }

    byte[] bytes(int n) throws IOException {
      skip(n);
      pos -= n;
      byte[] b = new byte[n];
      for (int i = 0; i < n; i++) {
        b[i] = (byte) next();
      }
      return b;
    }
  }
}
