//! A local GuardDuty/Detective-compatible HTTP server for tests and trying sync without AWS.
