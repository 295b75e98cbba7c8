package dev.mlops.runtime.security;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Strict PEM (RFC 7468) for keys: exactly one block of the expected label, nothing before or after
 * it but whitespace, and nothing inside but Base64 in canonical form and line breaks. A lenient
 * parser lets a key file carry text that a reviewer does not see as part of the key, or a second
 * key of which only the first is used.
 */
final class Pem {

  /** Far above any Ed25519 or P-256 key in PEM (under 300 characters), far below harm. */
  static final int MAX_CHARS = 16 * 1024;

  private static final String BEGIN = "-----BEGIN ";
  private static final String END = "-----END ";
  private static final String DASHES = "-----";

  private Pem() {}

  /**
   * Reads a PEM file of at most {@link #MAX_CHARS} bytes. Bytes are read as ISO-8859-1 so that a
   * non-ASCII byte is reported by {@link #decode} as a character, not as a decoding failure.
   *
   * @throws IllegalArgumentException if the file is larger
   * @throws UncheckedIOException if it cannot be read
   */
  static String read(Path file, String what) {
    try (InputStream in = Files.newInputStream(file)) {
      byte[] bytes = in.readNBytes(MAX_CHARS + 1);
      if (bytes.length > MAX_CHARS) {
        throw new IllegalArgumentException(
            "the "
                + what
                + " file "
                + file
                + " holds more than "
                + MAX_CHARS
                + " bytes; expected one PEM key (a few hundred bytes)");
      }
      return new String(bytes, StandardCharsets.ISO_8859_1);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the " + what + " " + file + ": " + e, e);
    }
  }

  /**
   * The DER bytes of the single PEM block labelled {@code label}.
   *
   * @param hint what the expected block is, for messages, e.g. {@code (PKCS#8, as written by
   *     'openssl genpkey')}
   * @throws IllegalArgumentException naming what was expected and what was found
   */
  static byte[] decode(String pem, String label, String hint) {
    String expected = "'" + BEGIN + label + DASHES + "' " + hint;
    if (pem.length() > MAX_CHARS) {
      throw new IllegalArgumentException(
          "the PEM text is "
              + pem.length()
              + " characters, more than "
              + MAX_CHARS
              + "; expected one key block "
              + expected);
    }
    int from = 0;
    int to = pem.length();
    while (from < to && isSpace(pem.charAt(from))) {
      from++;
    }
    while (to > from && isSpace(pem.charAt(to - 1))) {
      to--;
    }
    String text = pem.substring(from, to);
    List<String> labels = beginLabels(text);
    if (labels.isEmpty()) {
      throw new IllegalArgumentException(
          "found "
              + (text.isEmpty() ? "no text" : "no PEM block in " + snippet(text))
              + "; expected "
              + expected);
    }
    if (labels.size() > 1) {
      throw new IllegalArgumentException(
          "found "
              + labels.size()
              + " PEM blocks "
              + labels.stream().map(l -> "'" + l + "'").toList()
              + "; expected exactly one, "
              + expected);
    }
    if (!text.startsWith(BEGIN)) {
      throw new IllegalArgumentException(
          "found "
              + snippet(text.substring(0, text.indexOf(BEGIN)).strip())
              + " before the PEM block; expected nothing but whitespace before "
              + expected);
    }
    int labelEnd = text.indexOf(DASHES, BEGIN.length());
    if (labelEnd < 0 || text.substring(0, labelEnd).indexOf('\n') >= 0) {
      throw new IllegalArgumentException(
          "found the malformed line " + snippet(labels.get(0)) + "; expected " + expected);
    }
    String found = text.substring(BEGIN.length(), labelEnd);
    if (!found.equals(label)) {
      throw new IllegalArgumentException(
          "found a PEM block "
              + snippet(BEGIN + found + DASHES)
              + advice(found, label)
              + "; expected "
              + expected);
    }
    int bodyStart = labelEnd + DASHES.length();
    String endLine = END + label + DASHES;
    int end = text.indexOf(END, bodyStart);
    if (end < 0) {
      throw new IllegalArgumentException(
          "found no '" + endLine + "' line after '" + BEGIN + label + DASHES + "'");
    }
    if (!text.startsWith(endLine, end)) {
      int close = text.indexOf(DASHES, end + END.length());
      throw new IllegalArgumentException(
          "found "
              + snippet(text.substring(end, close < 0 ? text.length() : close + DASHES.length()))
              + " where '"
              + endLine
              + "' belongs");
    }
    if (end + endLine.length() != text.length()) {
      throw new IllegalArgumentException(
          "found "
              + snippet(text.substring(end + endLine.length()).strip())
              + " after '"
              + endLine
              + "'; expected nothing but whitespace after the key");
    }
    return base64(text.substring(bodyStart, end), label);
  }

  private static byte[] base64(String body, String label) {
    if (!body.startsWith("\n") && !body.startsWith("\r\n")) {
      throw new IllegalArgumentException(
          "found "
              + snippet(body)
              + " on the line of '"
              + BEGIN
              + label
              + DASHES
              + "'; expected a line break, then Base64 lines");
    }
    StringBuilder b64 = new StringBuilder(body.length());
    int line = 1;
    for (int i = 0; i < body.length(); i++) {
      char c = body.charAt(i);
      if (c == '\n') {
        line++;
      } else if (c != '\r') {
        if (!isBase64(c)) {
          throw new IllegalArgumentException(
              "found "
                  + describe(c)
                  + " on line "
                  + line
                  + " of the PEM block '"
                  + label
                  + "'; expected only Base64 (A-Z a-z 0-9 + / =) and line breaks"
                  + (lineAt(body, i).contains(":")
                      ? " (PEM headers, as in an encrypted key, are not supported)"
                      : ""));
        }
        b64.append(c);
      }
    }
    String s = b64.toString();
    int pad = s.indexOf('=');
    if (s.isEmpty()
        || s.length() % 4 != 0
        || (pad >= 0 && (pad < s.length() - 2 || !s.substring(pad).matches("=+")))) {
      throw new IllegalArgumentException(
          "the Base64 of the PEM block '"
              + label
              + "' is "
              + (s.isEmpty() ? "empty" : "malformed (" + s.length() + " characters, padding)")
              + "; expected the Base64 of one DER key");
    }
    byte[] der = Base64.getDecoder().decode(s);
    if (!Base64.getEncoder().encodeToString(der).equals(s)) {
      throw new IllegalArgumentException(
          "the Base64 of the PEM block '"
              + label
              + "' is not canonical (non-zero bits in its padding); expected the Base64 of one DER"
              + " key");
    }
    return der;
  }

  private static String lineAt(String text, int i) {
    int from = text.lastIndexOf('\n', i) + 1;
    int to = text.indexOf('\n', i);
    return text.substring(from, to < 0 ? text.length() : to);
  }

  private static List<String> beginLabels(String text) {
    List<String> labels = new ArrayList<>();
    int i = text.indexOf(BEGIN);
    while (i >= 0) {
      int close = text.indexOf(DASHES, i + BEGIN.length());
      int eol = text.indexOf('\n', i);
      labels.add(
          close >= 0 && (eol < 0 || close < eol)
              ? text.substring(i, close + DASHES.length())
              : text.substring(i, eol < 0 ? text.length() : eol).strip());
      i = text.indexOf(BEGIN, i + BEGIN.length());
    }
    return labels;
  }

  private static String advice(String found, String expected) {
    if (found.equals("ENCRYPTED PRIVATE KEY")) {
      return " (an encrypted key; decrypt it with 'openssl pkey -in key.pem -out plain.pem')";
    }
    if (found.equals("EC PRIVATE KEY")) {
      return " (a SEC1 EC key; convert it with 'openssl pkcs8 -topk8 -nocrypt -in key.pem -out"
          + " pkcs8.pem')";
    }
    if (found.equals("PRIVATE KEY") && expected.equals("PUBLIC KEY")) {
      return " (a private key: never ship it; trust its public key, 'openssl pkey -in key.pem"
          + " -pubout')";
    }
    return "";
  }

  private static boolean isSpace(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
  }

  private static boolean isBase64(char c) {
    return (c >= 'A' && c <= 'Z')
        || (c >= 'a' && c <= 'z')
        || (c >= '0' && c <= '9')
        || c == '+'
        || c == '/'
        || c == '=';
  }

  private static String describe(char c) {
    return (c >= 0x20 && c < 0x7f ? "'" + c + "' " : "")
        + "U+"
        + String.format("%04X", (int) c)
        + (c == ' ' || c == '\t' ? " (whitespace inside the Base64)" : "");
  }

  /** At most 40 characters of {@code s}, quoted, with control characters escaped. */
  static String snippet(String s) {
    String cut = s.length() > 40 ? s.substring(0, 40) : s;
    StringBuilder sb = new StringBuilder("'");
    for (int i = 0; i < cut.length(); i++) {
      char c = cut.charAt(i);
      if (c == '\n') {
        sb.append("\\n");
      } else if (c < 0x20 || c >= 0x7f) {
        sb.append(String.format("\\u%04X", (int) c));
      } else {
        sb.append(c);
      }
    }
    return sb.append(s.length() > 40 ? "...'" : "'").toString();
  }
}
