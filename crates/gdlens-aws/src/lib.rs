//! AWS sync through the GuardDuty delegated administrator, Detective investigations, write-back.
