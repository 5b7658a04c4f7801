//! Sniffs and streams every GuardDuty finding shape from files, directories, gzip and stdin.
