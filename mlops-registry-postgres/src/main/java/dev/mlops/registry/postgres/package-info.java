/**
 * The registry on PostgreSQL (preview): {@link dev.mlops.registry.postgres.PostgresModelStore}, a
 * {@link dev.mlops.api.spi.ModelStore} that a fleet of instances shares, with its own schema
 * migrations; and artifact stores a fleet shares, {@link
 * dev.mlops.registry.postgres.PostgresArtifactStore} and {@link
 * dev.mlops.registry.postgres.S3ArtifactStore}, which fetch into a verifying local {@link
 * dev.mlops.registry.postgres.ArtifactCache}.
 */
package dev.mlops.registry.postgres;
