//! Finding groups: ATT&CK tactic mapping and correlation of findings into attack stories.
