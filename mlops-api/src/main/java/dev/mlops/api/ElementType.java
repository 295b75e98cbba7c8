package dev.mlops.api;

/**
 * Element type of a tensor: every type ONNX Runtime's Java binding can move across the JNI
 * boundary. {@code FLOAT16} and {@code BFLOAT16} values are carried as their raw 16-bit patterns in
 * a {@code short[]}.
 */
public enum ElementType {
  /** 32-bit IEEE float ({@code float[]}). */
  FLOAT("float32"),
  /** 64-bit IEEE float ({@code double[]}). */
  DOUBLE("float64"),
  /** Signed 8-bit integer ({@code byte[]}). */
  INT8("int8"),
  /**
   * Unsigned 8-bit integer, carried in a {@code byte[]} (values 128..255 read as negative bytes).
   */
  UINT8("uint8"),
  /** Signed 16-bit integer ({@code short[]}). */
  INT16("int16"),
  /** Signed 32-bit integer ({@code int[]}). */
  INT32("int32"),
  /** Signed 64-bit integer ({@code long[]}). */
  INT64("int64"),
  /** Boolean ({@code boolean[]}). */
  BOOL("bool"),
  /** UTF-8 string ({@code String[]}). */
  STRING("string"),
  /** IEEE half precision, raw bits in a {@code short[]}. */
  FLOAT16("float16"),
  /** bfloat16, raw bits in a {@code short[]}. */
  BFLOAT16("bfloat16");

  private final String onnxName;

  ElementType(String onnxName) {
    this.onnxName = onnxName;
  }

  /** The ONNX spelling of the type, as used in messages ({@code float32}, {@code int64}...). */
  public String onnxName() {
    return onnxName;
  }

  /**
   * Bytes one element takes in a dense tensor ({@code BOOL}: one byte); -1 for {@code STRING},
   * whose elements have no fixed width.
   */
  public int byteWidth() {
    switch (this) {
      case INT8:
      case UINT8:
      case BOOL:
        return 1;
      case INT16:
      case FLOAT16:
      case BFLOAT16:
        return 2;
      case FLOAT:
      case INT32:
        return 4;
      case DOUBLE:
      case INT64:
        return 8;
      default:
        return -1;
    }
  }

  /** Whether values of this type are numbers (everything but {@code BOOL} and {@code STRING}). */
  public boolean isNumeric() {
    return this != BOOL && this != STRING;
  }
}
