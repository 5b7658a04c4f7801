//! Typed AWS failures with stable codes. The SDK's full error chain is logged where it happens;
//! what callers (and GraphQL clients) see is the code and a short, safe message.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde::{Deserialize, Serialize};

/// Stable failure codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The credentials may not call the API (403 AccessDeniedException).
    AccessDenied,
    /// GuardDuty is not enabled in the region.
    NoDetector,
    /// Throttled (429) and still throttled after every retry.
    Throttled,
    /// 5xx and still failing after every retry.
    ServerError,
    /// No connection, DNS failure or timeout.
    Unreachable,
    /// The request was rejected (400), e.g. an unknown detector or finding id.
    BadRequest,
    /// The reply could not be read as the API's shape.
    InvalidResponse,
    /// No credentials could be found or used.
    Credentials,
    /// The local store failed.
    Store,
    /// Any other AWS error.
    Aws,
}

impl ErrorCode {
    /// The snake_case code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccessDenied => "access_denied",
            Self::NoDetector => "no_detector",
            Self::Throttled => "throttled",
            Self::ServerError => "server_error",
            Self::Unreachable => "unreachable",
            Self::BadRequest => "bad_request",
            Self::InvalidResponse => "invalid_response",
            Self::Credentials => "credentials",
            Self::Store => "store",
            Self::Aws => "aws_error",
        }
    }

    /// Whether retrying later may succeed.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            Self::Throttled | Self::ServerError | Self::Unreachable | Self::InvalidResponse
        )
    }
}

/// One failed AWS call (or store write) in safe, stable form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{message}")]
pub struct AwsError {
    pub code: ErrorCode,
    pub message: String,
}

impl AwsError {
    /// An error with a code and a safe message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// Classifies an SDK error and logs its full detail (`operation` and `region` as fields).
    pub fn from_sdk<E>(
        err: &SdkError<E, aws_smithy_runtime_api::http::Response>,
        operation: &str,
        region: &str,
    ) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let detail = aws_smithy_types::error::display::DisplayErrorContext(err);
        tracing::debug!(operation, region, error = %detail, "AWS call failed");
        match err {
            SdkError::ServiceError(ctx) => {
                let status = ctx.raw().status().as_u16();
                let aws_code = ctx.err().code().unwrap_or("");
                Self::from_service(status, aws_code, operation)
            }
            SdkError::DispatchFailure(f) if f.is_io() || f.is_timeout() => Self::new(
                ErrorCode::Unreachable,
                format!("{operation}: endpoint unreachable"),
            ),
            SdkError::DispatchFailure(_) => {
                // Credential resolution failures surface here too.
                let text = detail.to_string();
                if text.contains("credentials") || text.contains("Credentials") {
                    Self::new(
                        ErrorCode::Credentials,
                        format!("{operation}: no usable AWS credentials"),
                    )
                } else {
                    Self::new(
                        ErrorCode::Unreachable,
                        format!("{operation}: request could not be sent"),
                    )
                }
            }
            SdkError::TimeoutError(_) => {
                Self::new(ErrorCode::Unreachable, format!("{operation}: timed out"))
            }
            SdkError::ResponseError(ctx) => {
                let status = ctx.raw().status().as_u16();
                if status >= 500 || status == 429 {
                    Self::from_service(status, "", operation)
                } else {
                    Self::new(
                        ErrorCode::InvalidResponse,
                        format!("{operation}: unreadable reply (HTTP {status})"),
                    )
                }
            }
            _ => Self::new(ErrorCode::Aws, format!("{operation}: request failed")),
        }
    }

    /// Classifies by HTTP status and AWS error code.
    pub fn from_service(status: u16, aws_code: &str, operation: &str) -> Self {
        let code = match (status, aws_code) {
            (_, "AccessDeniedException") | (403, _) => ErrorCode::AccessDenied,
            (429, _) | (_, "ThrottlingException" | "TooManyRequestsException") => {
                ErrorCode::Throttled
            }
            (500..=599, _) => ErrorCode::ServerError,
            (400 | 404, _) => ErrorCode::BadRequest,
            _ => ErrorCode::Aws,
        };
        let shown = if aws_code.is_empty() {
            format!("HTTP {status}")
        } else {
            aws_code.to_string()
        };
        Self::new(code, format!("{operation}: {shown}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_errors_map_to_stable_codes() {
        assert_eq!(
            AwsError::from_service(403, "AccessDeniedException", "ListDetectors").code,
            ErrorCode::AccessDenied
        );
        assert_eq!(
            AwsError::from_service(429, "ThrottlingException", "ListFindings").code,
            ErrorCode::Throttled
        );
        assert_eq!(
            AwsError::from_service(400, "TooManyRequestsException", "ListGraphs").code,
            ErrorCode::Throttled
        );
        assert_eq!(
            AwsError::from_service(500, "InternalServerErrorException", "GetFindings").code,
            ErrorCode::ServerError
        );
        assert_eq!(
            AwsError::from_service(400, "BadRequestException", "GetFindings").code,
            ErrorCode::BadRequest
        );
        assert!(ErrorCode::Throttled.is_transient() && !ErrorCode::AccessDenied.is_transient());
        assert_eq!(
            serde_json::to_string(&ErrorCode::NoDetector).unwrap(),
            "\"no_detector\""
        );
    }
}
