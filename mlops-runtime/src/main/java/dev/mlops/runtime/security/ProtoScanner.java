package dev.mlops.runtime.security;

import dev.mlops.api.ModelLoadException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A minimal protobuf wire-format reader over a file, enough to walk an ONNX {@code ModelProto} to
 * its tensors without a protobuf library. Reads through a small window with positional reads, so a
 * model of any size is scanned in constant memory and its large {@code raw_data} fields are
 * skipped, never read. Not thread-safe; one instance per scan.
 */
final class ProtoScanner {

  static final int VARINT = 0;
  static final int I64 = 1;
  static final int LEN = 2;
  static final int SGROUP = 3;
  static final int EGROUP = 4;
  static final int I32 = 5;

  /** A byte range of the file holding one serialized message (or field payload). */
  record Range(long start, long end) {}

  /** Receives the fields of a message in wire order. */
  interface FieldHandler {
    /**
     * One field. For {@link #VARINT} fields {@code value} holds the number; for {@link #LEN} fields
     * {@code payload} is the range of its bytes; other wire types are skipped.
     */
    void field(int number, int wireType, long value, Range payload) throws IOException;
  }

  private final FileChannel channel;
  private final long size;
  private final Path file;
  private final ByteBuffer window = ByteBuffer.allocate(64 * 1024);
  private long windowStart = -1;
  private int windowLength;

  ProtoScanner(FileChannel channel, Path file) throws IOException {
    this.channel = channel;
    this.size = channel.size();
    this.file = file;
  }

  long size() {
    return size;
  }

  Range whole() {
    return new Range(0, size);
  }

  /**
   * Calls {@code handler} for every field of the message made of {@code segments}: protobuf merges
   * repeated occurrences of a singular message field, which is the same as parsing their
   * concatenation, so a singular field's occurrences are passed together.
   */
  void fields(List<Range> segments, FieldHandler handler) throws IOException {
    for (Range r : segments) {
      fields(r, handler);
    }
  }

  void fields(Range r, FieldHandler handler) throws IOException {
    long pos = r.start();
    while (pos < r.end()) {
      long tagStart = pos;
      long tag = varint(pos, r.end());
      pos = afterVarint;
      int wire = (int) (tag & 7);
      long number = tag >>> 3;
      if (number < 1 || number > 536_870_911L) {
        throw malformed("invalid field number " + number, tagStart);
      }
      switch (wire) {
        case VARINT -> {
          long v = varint(pos, r.end());
          pos = afterVarint;
          handler.field((int) number, wire, v, null);
        }
        case I64 -> pos = skip(pos, 8, r.end(), tagStart);
        case I32 -> pos = skip(pos, 4, r.end(), tagStart);
        case LEN -> {
          long len = varint(pos, r.end());
          pos = afterVarint;
          if (len < 0 || len > r.end() - pos) {
            throw malformed(
                "field "
                    + number
                    + " claims "
                    + len
                    + " bytes but only "
                    + (r.end() - pos)
                    + " remain",
                tagStart);
          }
          handler.field((int) number, wire, 0, new Range(pos, pos + len));
          pos += len;
        }
        case SGROUP -> pos = skipGroup(pos, r.end(), number, tagStart, 0);
        default -> throw malformed("invalid wire type " + wire + " for field " + number, tagStart);
      }
    }
  }

  private long skipGroup(long pos, long end, long number, long at, int depth) throws IOException {
    if (depth > 100) {
      throw malformed("groups nested too deep", at);
    }
    while (true) {
      if (pos >= end) {
        throw malformed("group " + number + " is not closed", at);
      }
      long tagStart = pos;
      long tag = varint(pos, end);
      pos = afterVarint;
      int wire = (int) (tag & 7);
      long n = tag >>> 3;
      switch (wire) {
        case VARINT -> {
          varint(pos, end);
          pos = afterVarint;
        }
        case I64 -> pos = skip(pos, 8, end, tagStart);
        case I32 -> pos = skip(pos, 4, end, tagStart);
        case LEN -> {
          long len = varint(pos, end);
          pos = afterVarint;
          if (len < 0 || len > end - pos) {
            throw malformed(
                "field " + n + " claims " + len + " bytes but only " + (end - pos) + " remain",
                tagStart);
          }
          pos += len;
        }
        case SGROUP -> pos = skipGroup(pos, end, n, tagStart, depth + 1);
        case EGROUP -> {
          if (n != number) {
            throw malformed("group " + number + " closed as " + n, tagStart);
          }
          return pos;
        }
        default -> throw malformed("invalid wire type " + wire, tagStart);
      }
    }
  }

  private long skip(long pos, int n, long end, long at) {
    if (end - pos < n) {
      throw malformed("truncated fixed-width field", at);
    }
    return pos + n;
  }

  private long afterVarint;

  private long varint(long pos, long end) throws IOException {
    long result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= end) {
        throw malformed("truncated varint", pos);
      }
      int b = byteAt(pos++);
      result |= (long) (b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        afterVarint = pos;
        return result;
      }
    }
    throw malformed("varint longer than 10 bytes", pos);
  }

  /** Every varint in a packed payload. */
  List<Long> packedVarints(Range r) throws IOException {
    List<Long> out = new ArrayList<>();
    long pos = r.start();
    while (pos < r.end()) {
      out.add(varint(pos, r.end()));
      pos = afterVarint;
    }
    return out;
  }

  /** A string payload, cut at {@code max} bytes (callers that care check the length first). */
  String string(Range r, int max) throws IOException {
    int n = (int) Math.min(r.end() - r.start(), max);
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) byteAt(r.start() + i);
    }
    return new String(b, StandardCharsets.UTF_8);
  }

  private int byteAt(long pos) throws IOException {
    if (pos < windowStart || pos >= windowStart + windowLength) {
      window.clear();
      windowStart = pos;
      windowLength = 0;
      while (window.hasRemaining()) {
        int n = channel.read(window, pos + window.position());
        if (n < 0) {
          break;
        }
      }
      windowLength = window.position();
      if (windowLength == 0) {
        throw malformed("unexpected end of file", pos);
      }
    }
    return window.get((int) (pos - windowStart)) & 0xFF;
  }

  ModelLoadException malformed(String what, long at) {
    return new ModelLoadException(
        "model file "
            + file
            + " is not a valid ONNX protobuf: "
            + what
            + " at byte "
            + at
            + "; expected a serialized ModelProto");
  }
}
