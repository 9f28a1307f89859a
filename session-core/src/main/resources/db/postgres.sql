-- Journal and snapshot tables for pekko-persistence-jdbc 1.1.1 on PostgreSQL, idempotent:
-- the DDL shipped in the plugin's jar has an index without IF NOT EXISTS and CONCURRENTLY
-- statements that cannot run in a transaction, so this copy is applied instead.
CREATE TABLE IF NOT EXISTS event_journal(
  ordering BIGSERIAL,
  persistence_id VARCHAR(255) NOT NULL,
  sequence_number BIGINT NOT NULL,
  deleted BOOLEAN DEFAULT FALSE NOT NULL,
  writer VARCHAR(255) NOT NULL,
  write_timestamp BIGINT,
  adapter_manifest VARCHAR(255),
  event_ser_id INTEGER NOT NULL,
  event_ser_manifest VARCHAR(255) NOT NULL,
  event_payload BYTEA NOT NULL,
  meta_ser_id INTEGER,
  meta_ser_manifest VARCHAR(255),
  meta_payload BYTEA,
  PRIMARY KEY(persistence_id, sequence_number));
CREATE UNIQUE INDEX IF NOT EXISTS event_journal_ordering_idx ON event_journal(ordering);
CREATE TABLE IF NOT EXISTS event_tag(
  event_id BIGINT,
  tag VARCHAR(256),
  PRIMARY KEY(event_id, tag),
  CONSTRAINT fk_event_journal FOREIGN KEY(event_id) REFERENCES event_journal(ordering) ON DELETE CASCADE);
CREATE TABLE IF NOT EXISTS snapshot (
  persistence_id VARCHAR(255) NOT NULL,
  sequence_number BIGINT NOT NULL,
  created BIGINT NOT NULL,
  snapshot_ser_id INTEGER NOT NULL,
  snapshot_ser_manifest VARCHAR(255) NOT NULL,
  snapshot_payload BYTEA NOT NULL,
  meta_ser_id INTEGER,
  meta_ser_manifest VARCHAR(255),
  meta_payload BYTEA,
  PRIMARY KEY(persistence_id, sequence_number));
-- One row per erased session: who erased it, when, why, and how many rows went. It outlives
-- the session's events on purpose (docs/OPERATIONS.md, "Erasure and retention").
CREATE TABLE IF NOT EXISTS session_erasure (
  session_id VARCHAR(255) NOT NULL PRIMARY KEY,
  erased_by VARCHAR(255) NOT NULL,
  role VARCHAR(32) NOT NULL,
  reason VARCHAR(32) NOT NULL,
  erased_at TIMESTAMP WITH TIME ZONE NOT NULL,
  head BIGINT NOT NULL,
  events BIGINT NOT NULL,
  snapshots BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS session_erasure_erased_at_idx ON session_erasure(erased_at);
