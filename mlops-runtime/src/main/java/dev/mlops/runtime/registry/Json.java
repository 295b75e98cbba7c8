package dev.mlops.runtime.registry;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Minimal JSON reader and writer for the registry's own metadata files: objects, arrays, strings,
 * numbers (read as {@code Long} when integral, else {@code Double}), booleans and null. Keeps the
 * runtime free of a JSON library dependency. Stateless and thread-safe.
 *
 * <p>The reader takes text that anyone who can write the registry's directory may have made, so it
 * refuses, with an {@link IllegalArgumentException}, text longer than {@link #MAX_CHARS} characters
 * and values nested deeper than {@link #MAX_DEPTH}: its recursion can then never exhaust the stack,
 * nor a file the heap.
 */
public final class Json {

  /**
   * Deepest nesting of arrays and objects {@link #parse} accepts (64); the registry's own files
   * nest at most four deep.
   */
  public static final int MAX_DEPTH = 64;

  /**
   * Longest text {@link #parse} accepts, in characters (16 MiB); the registry's own files are a few
   * kilobytes.
   */
  public static final int MAX_CHARS = 16 << 20;

  private Json() {}

  /**
   * Writes maps (with any keys, written as their {@code toString()}), lists, strings, booleans,
   * integral and floating-point numbers (NaN and infinities as strings) and null as JSON text.
   *
   * @throws IllegalArgumentException if {@code value} holds anything else
   */
  public static String write(Object value) {
    StringBuilder sb = new StringBuilder();
    write(sb, value);
    return sb.toString();
  }

  private static void write(StringBuilder sb, Object v) {
    if (v == null) {
      sb.append("null");
    } else if (v instanceof String) {
      writeString(sb, (String) v);
    } else if (v instanceof Boolean || v instanceof Long || v instanceof Integer) {
      sb.append(v);
    } else if (v instanceof Double || v instanceof Float) {
      double d = ((Number) v).doubleValue();
      if (Double.isNaN(d) || Double.isInfinite(d)) {
        writeString(sb, Double.toString(d));
      } else {
        sb.append(d);
      }
    } else if (v instanceof Map) {
      sb.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
        if (!first) {
          sb.append(',');
        }
        first = false;
        writeString(sb, e.getKey().toString());
        sb.append(':');
        write(sb, e.getValue());
      }
      sb.append('}');
    } else if (v instanceof List) {
      sb.append('[');
      boolean first = true;
      for (Object o : (List<?>) v) {
        if (!first) {
          sb.append(',');
        }
        first = false;
        write(sb, o);
      }
      sb.append(']');
    } else {
      throw new IllegalArgumentException("cannot write " + v.getClass() + " as JSON");
    }
  }

  private static void writeString(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"':
          sb.append("\\\"");
          break;
        case '\\':
          sb.append("\\\\");
          break;
        case '\n':
          sb.append("\\n");
          break;
        case '\r':
          sb.append("\\r");
          break;
        case '\t':
          sb.append("\\t");
          break;
        default:
          if (c < 0x20) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
      }
    }
    sb.append('"');
  }

  /**
   * Parses one JSON value: a {@code Map<String, Object>} (in the text's key order), a {@code
   * List<Object>}, a {@code String}, a {@code Long} or {@code Double}, a {@code Boolean} or null.
   *
   * @throws IllegalArgumentException if the text is not one JSON value, is longer than {@link
   *     #MAX_CHARS} characters or nests deeper than {@link #MAX_DEPTH}; the message says where
   */
  public static Object parse(String text) {
    if (text.length() > MAX_CHARS) {
      throw new IllegalArgumentException(
          "JSON text of "
              + text.length()
              + " characters is longer than the "
              + MAX_CHARS
              + " this reader accepts");
    }
    Parser p = new Parser(text);
    Object v = p.value();
    p.skipWs();
    if (p.pos != text.length()) {
      throw p.error("trailing characters");
    }
    return v;
  }

  /**
   * Parses one JSON object, as {@link #parse} does.
   *
   * @throws IllegalArgumentException if the text is not a JSON object or {@link #parse} refuses it
   */
  @SuppressWarnings("unchecked")
  public static Map<String, Object> parseObject(String text) {
    Object v = parse(text);
    if (!(v instanceof Map)) {
      throw new IllegalArgumentException("expected a JSON object");
    }
    return (Map<String, Object>) v;
  }

  private static final class Parser {
    private final String s;
    private int pos;

    /** Arrays and objects open around the current position. */
    private int depth;

    Parser(String s) {
      this.s = s;
    }

    IllegalArgumentException error(String what) {
      return new IllegalArgumentException("malformed JSON at offset " + pos + ": " + what);
    }

    void skipWs() {
      while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
        pos++;
      }
    }

    Object value() {
      skipWs();
      if (pos >= s.length()) {
        throw error("unexpected end");
      }
      char c = s.charAt(pos);
      switch (c) {
        case '{':
          return object();
        case '[':
          return array();
        case '"':
          return string();
        case 't':
          return literal("true", Boolean.TRUE);
        case 'f':
          return literal("false", Boolean.FALSE);
        case 'n':
          return literal("null", null);
        default:
          return number();
      }
    }

    private Object literal(String word, Object value) {
      if (!s.startsWith(word, pos)) {
        throw error("expected " + word);
      }
      pos += word.length();
      return value;
    }

    /** Enters an array or object, refusing one nested deeper than {@link #MAX_DEPTH}. */
    private void enter() {
      if (++depth > MAX_DEPTH) {
        throw error("arrays and objects nested deeper than " + MAX_DEPTH);
      }
    }

    private Map<String, Object> object() {
      enter();
      Map<String, Object> m = new LinkedHashMap<>();
      pos++;
      skipWs();
      if (peek() == '}') {
        pos++;
        depth--;
        return m;
      }
      while (true) {
        skipWs();
        if (peek() != '"') {
          throw error("expected a key");
        }
        String key = string();
        skipWs();
        expect(':');
        m.put(key, value());
        skipWs();
        char c = next();
        if (c == '}') {
          depth--;
          return m;
        }
        if (c != ',') {
          throw error("expected ',' or '}'");
        }
      }
    }

    private List<Object> array() {
      enter();
      List<Object> l = new ArrayList<>();
      pos++;
      skipWs();
      if (peek() == ']') {
        pos++;
        depth--;
        return l;
      }
      while (true) {
        l.add(value());
        skipWs();
        char c = next();
        if (c == ']') {
          depth--;
          return l;
        }
        if (c != ',') {
          throw error("expected ',' or ']'");
        }
      }
    }

    private String string() {
      expect('"');
      StringBuilder sb = new StringBuilder();
      while (true) {
        char c = next();
        if (c == '"') {
          return sb.toString();
        }
        if (c == '\\') {
          char e = next();
          switch (e) {
            case 'n':
              sb.append('\n');
              break;
            case 'r':
              sb.append('\r');
              break;
            case 't':
              sb.append('\t');
              break;
            case 'b':
              sb.append('\b');
              break;
            case 'f':
              sb.append('\f');
              break;
            case 'u':
              {
                int code = 0;
                for (int k = 0; k < 4; k++) {
                  char h = peek();
                  int digit = h < 0x80 ? Character.digit(h, 16) : -1;
                  if (digit < 0) {
                    throw error("bad \\u escape");
                  }
                  code = code * 16 + digit;
                  pos++;
                }
                sb.append((char) code);
                break;
              }
            default:
              sb.append(e);
          }
        } else {
          sb.append(c);
        }
      }
    }

    private Object number() {
      int start = pos;
      while (pos < s.length() && "+-0123456789.eE".indexOf(s.charAt(pos)) >= 0) {
        pos++;
      }
      String n = s.substring(start, pos);
      if (n.isEmpty()) {
        throw error("unexpected character");
      }
      try {
        if (n.indexOf('.') < 0 && n.indexOf('e') < 0 && n.indexOf('E') < 0) {
          return Long.parseLong(n);
        }
        return Double.parseDouble(n);
      } catch (NumberFormatException e) {
        throw error(
            "bad number "
                + (n.length() > 40
                    ? n.substring(0, 40) + "... (" + n.length() + " characters)"
                    : n));
      }
    }

    private char peek() {
      if (pos >= s.length()) {
        throw error("unexpected end");
      }
      return s.charAt(pos);
    }

    private char next() {
      char c = peek();
      pos++;
      return c;
    }

    private void expect(char c) {
      if (next() != c) {
        throw error("expected '" + c + "'");
      }
    }
  }
}
