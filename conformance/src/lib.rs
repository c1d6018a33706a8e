//! Conformance suite (recorded interactions); filled in by the conformance work.
