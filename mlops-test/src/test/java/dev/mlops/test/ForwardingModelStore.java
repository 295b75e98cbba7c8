package dev.mlops.test;

import dev.mlops.api.AuditEntry;
import dev.mlops.api.AuditQuery;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.spi.AliasTarget;
import dev.mlops.api.spi.ModelStore;
import dev.mlops.api.spi.NewVersion;
import dev.mlops.api.spi.StoreListener;
import dev.mlops.api.spi.StoredRollout;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.LongFunction;

/**
 * Passes every call to another store; the kit's self-test overrides one call to break one
 * guarantee.
 */
class ForwardingModelStore implements ModelStore {

  final InMemoryModelStore delegate;

  ForwardingModelStore(InMemoryModelStore delegate) {
    this.delegate = delegate;
  }

  @Override
  public List<String> models() {
    return delegate.models();
  }

  @Override
  public List<ModelVersion> versions(String model) {
    return delegate.versions(model);
  }

  @Override
  public Optional<ModelVersion> version(String model, long number) {
    return delegate.version(model, number);
  }

  @Override
  public ModelVersion insertVersion(String model, LongFunction<NewVersion> make) {
    return delegate.insertVersion(model, make);
  }

  @Override
  public Map<String, AliasTarget> aliases(String model) {
    return delegate.aliases(model);
  }

  @Override
  public Optional<AliasTarget> compareAndSetAlias(
      String model, String alias, long expected, long target, AuditEntry entry) {
    return delegate.compareAndSetAlias(model, alias, expected, target, entry);
  }

  @Override
  public Map<String, StoredRollout> rollouts(String model) {
    return delegate.rollouts(model);
  }

  @Override
  public OptionalLong compareAndSetRollout(
      String model, String alias, long expected, String record, AuditEntry entry) {
    return delegate.compareAndSetRollout(model, alias, expected, record, entry);
  }

  @Override
  public boolean archive(String model, long version, AuditEntry entry) {
    return delegate.archive(model, version, entry);
  }

  @Override
  public void delete(String model, long version, AuditEntry entry) {
    delegate.delete(model, version, entry);
  }

  @Override
  public void appendAudit(AuditEntry entry) {
    delegate.appendAudit(entry);
  }

  @Override
  public List<AuditEntry> audit(AuditQuery query) {
    return delegate.audit(query);
  }

  @Override
  public Optional<byte[]> file(String model, long version, String name) {
    return delegate.file(model, version, name);
  }

  @Override
  public AutoCloseable subscribe(StoreListener listener) {
    return delegate.subscribe(listener);
  }

  @Override
  public void close() {
    delegate.close();
  }
}
