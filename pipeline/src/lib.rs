//! The ingest pipeline (placeholder while the stages land).
