//! Write-back to GuardDuty (archive, unarchive, feedback), behind a trait so the API never
//! depends on the AWS crate; the binary plugs the implementation in.

use std::future::Future;
use std::pin::Pin;

/// A finding that came from AWS, with what GuardDuty needs to address it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteBackTarget {
    /// Finding id.
    pub finding_id: String,
    /// Region of the detector.
    pub region: String,
    /// Detector id (from the finding's ARN or `service.detectorId`).
    pub detector_id: String,
    /// Member account owning the finding.
    pub account_id: String,
}

/// `USEFUL` / `NOT_USEFUL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feedback {
    /// The finding was useful.
    Useful,
    /// The finding was not useful.
    NotUseful,
}

/// A failed write-back; the message is logged, the client sees a stable code.
#[derive(Debug, thiserror::Error)]
#[error("write-back failed: {0}")]
pub struct WriteBackError(pub String);

/// A boxed future, so the trait stays object safe.
pub type WriteBackFuture<'a> =
    Pin<Box<dyn Future<Output = Result<(), WriteBackError>> + Send + 'a>>;

/// Sends analyst decisions back to GuardDuty. All-or-nothing per call from the API's point of
/// view: on `Err` the API leaves local state unchanged.
pub trait WriteBack: Send + Sync {
    /// Archives the findings in GuardDuty.
    fn archive<'a>(&'a self, targets: &'a [WriteBackTarget]) -> WriteBackFuture<'a>;
    /// Unarchives the findings in GuardDuty.
    fn unarchive<'a>(&'a self, targets: &'a [WriteBackTarget]) -> WriteBackFuture<'a>;
    /// Sends feedback on the findings.
    fn feedback<'a>(
        &'a self,
        targets: &'a [WriteBackTarget],
        feedback: Feedback,
        comment: Option<&'a str>,
    ) -> WriteBackFuture<'a>;
}

/// Detector id from a GuardDuty finding ARN `arn:aws:guardduty:<region>:<acct>:detector/<id>/finding/<fid>`.
pub fn detector_id_from_arn(arn: &str) -> Option<&str> {
    let rest = arn.split_once(":detector/")?.1;
    let id = rest.split('/').next()?;
    (!id.is_empty()).then_some(id)
}

#[cfg(test)]
mod tests {
    #[test]
    fn detector_from_arn() {
        assert_eq!(
            super::detector_id_from_arn(
                "arn:aws:guardduty:us-east-1:111111111111:detector/abc123/finding/f1"
            ),
            Some("abc123")
        );
        assert_eq!(
            super::detector_id_from_arn("arn:aws:guardduty:us-east-1:1:x"),
            None
        );
    }
}
