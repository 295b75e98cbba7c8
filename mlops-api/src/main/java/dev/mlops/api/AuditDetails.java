package dev.mlops.api;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The details an audit entry records, per {@link AuditAction}: the one place where their keys are
 * spelled. The registry writes entries with these factories and the readers ({@link AliasChange},
 * {@link AuditQuery}) parse them with these keys, so a store only keeps the map it was given and no
 * two modules can spell a key differently. Stateless.
 */
public final class AuditDetails {

  /** The version an entry concerns: the one registered, archived, deleted, or that failed. */
  public static final String VERSION = "version";

  /** The SHA-256 manifest digest of a registered version. */
  public static final String DIGEST = "digest";

  /** The alias an alias change concerns. */
  public static final String ALIAS = "alias";

  /** The version an alias pointed at before the change; empty when it was new. */
  public static final String FROM = "from";

  /** The version an alias points at after the change. */
  public static final String TO = "to";

  /**
   * {@code true} when a change skipped the registry's checks ({@code forceAlias}, {@code
   * forceDelete}).
   */
  public static final String FORCED = "forced";

  /** How the new target of a forced alias move differs from the old one, {@code ; }-separated. */
  public static final String INCOMPATIBLE = "incompatible";

  /** What failed, for failure entries. */
  public static final String ERROR = "error";

  /** The version a predictor kept serving when it refused a swap. */
  public static final String SERVING = "serving";

  /** The reference a predictor follows, for a refused swap. */
  public static final String TARGET = "target";

  /** The key that signed a version's manifest. */
  public static final String KEY_ID = "keyId";

  /** The key id named in a registration's manifest signature. */
  public static final String SIGNATURE_KEY_ID = "signatureKeyId";

  /**
   * What became of a registration's manifest signature: verified, unchecked, invalid or missing.
   */
  public static final String SIGNATURE = "signature";

  /** Why a signature did not verify under the WARN policy. */
  public static final String SIGNATURE_ERROR = "signatureError";

  /**
   * The SHA-256 of the stored input example, in hex, when the version has one: the example is read
   * only when its bytes still have this digest.
   */
  public static final String INPUT_EXAMPLE = "inputExample";

  /** Key: a rollout's id. */
  public static final String ROLLOUT = "rollout";

  /** Key: a rollout's weight, in basis points. */
  public static final String WEIGHT = "weight";

  /** Key: a rollout's shadow share, in basis points (present when it is above 0). */
  public static final String SHADOW = "shadow";

  /** Key: what a rollout change did ({@code start}, {@code weight}, {@code pause}, ...). */
  public static final String CHANGE = "change";

  /**
   * Details of a rollout change: alias, id, stable as from, candidate as to, weight, shadow (when
   * above 0), change.
   */
  public static Map<String, String> rollout(Rollout r, String change) {
    Map<String, String> d = new java.util.TreeMap<>();
    d.put(ALIAS, r.alias());
    d.put(ROLLOUT, r.id());
    d.put(FROM, Long.toString(r.stable()));
    d.put(TO, Long.toString(r.candidate()));
    d.put(WEIGHT, Integer.toString(r.weight()));
    if (r.shadow() > 0) {
      d.put(SHADOW, Integer.toString(r.shadow()));
    }
    d.put(CHANGE, change);
    return java.util.Collections.unmodifiableMap(d);
  }

  private AuditDetails() {}

  /** {@link AuditAction#REGISTER}: the number, the digest and what became of its signature. */
  public static Map<String, String> registered(
      long version, String digest, Map<String, String> signature) {
    Map<String, String> d = new TreeMap<>(signature);
    d.put(VERSION, Long.toString(version));
    d.put(DIGEST, digest);
    return d;
  }

  /**
   * {@link AuditAction#SET_ALIAS}.
   *
   * @param from the previous target, 0 when the alias is new
   * @param forced whether the move skipped the checks
   * @param incompatible how the new target differs from the old one, empty when compatible
   */
  public static Map<String, String> aliasMoved(
      String alias, long from, long to, boolean forced, List<String> incompatible) {
    Map<String, String> d = new TreeMap<>();
    d.put(ALIAS, alias);
    d.put(FROM, from == 0 ? "" : Long.toString(from));
    d.put(TO, Long.toString(to));
    if (forced) {
      d.put(FORCED, "true");
    }
    if (!incompatible.isEmpty()) {
      d.put(INCOMPATIBLE, abbreviate(String.join("; ", incompatible)));
    }
    return d;
  }

  /** {@link AuditAction#DELETE_ALIAS}: the alias and the version it pointed at. */
  public static Map<String, String> aliasDeleted(String alias, long from) {
    return Map.of(ALIAS, alias, FROM, Long.toString(from));
  }

  /** {@link AuditAction#ARCHIVE} and {@link AuditAction#DELETE_VERSION}. */
  public static Map<String, String> version(long version, boolean forced) {
    return forced
        ? Map.of(VERSION, Long.toString(version), FORCED, "true")
        : Map.of(VERSION, Long.toString(version));
  }

  /**
   * {@link AuditAction#LOAD_FAILED}, {@link AuditAction#VERIFICATION_FAILED}, {@link
   * AuditAction#SIGNATURE_FAILED}.
   */
  public static Map<String, String> failure(long version, String error, String keyId) {
    Map<String, String> d = new TreeMap<>();
    d.put(VERSION, Long.toString(version));
    d.put(ERROR, abbreviate(error));
    if (keyId != null) {
      d.put(KEY_ID, keyId);
    }
    return d;
  }

  /** {@link AuditAction#SWAP_REFUSED}. */
  public static Map<String, String> swapRefused(
      long refused, long serving, ModelRef target, List<String> differences) {
    Map<String, String> d = new TreeMap<>();
    d.put(VERSION, Long.toString(refused));
    d.put(SERVING, Long.toString(serving));
    d.put(TARGET, target.toString());
    d.put(ERROR, abbreviate(String.join("; ", differences)));
    return d;
  }

  /** One line of at most 1,000 characters, as audit details are. */
  public static String abbreviate(String s) {
    String one = String.valueOf(s).replace('\n', ' ');
    return one.length() <= 1000 ? one : one.substring(0, 997) + "...";
  }
}
