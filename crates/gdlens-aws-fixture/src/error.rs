//! Errors as GuardDuty and Detective send them: a status, the `x-amzn-ErrorType` header and a
//! JSON body `{"message": …, "__type": …}`. The SDK reads the error code from either.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// One AWS error reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    /// HTTP status.
    pub status: StatusCode,
    /// The AWS error code, e.g. `BadRequestException`.
    pub code: &'static str,
    /// Human-readable message.
    pub message: String,
}

impl AwsError {
    /// 400 `BadRequestException`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "BadRequestException",
            message: message.into(),
        }
    }

    /// 403 `AccessDeniedException`.
    pub fn access_denied() -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            code: "AccessDeniedException",
            message: "User is not authorized to perform this action".into(),
        }
    }

    /// 429 `ThrottlingException` (GuardDuty) or `TooManyRequestsException` (Detective).
    pub fn throttled(detective: bool) -> Self {
        Self {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: if detective {
                "TooManyRequestsException"
            } else {
                "ThrottlingException"
            },
            message: "Rate exceeded".into(),
        }
    }

    /// 500 `InternalServerErrorException` (GuardDuty) or `InternalServerException` (Detective).
    pub fn internal(detective: bool) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: if detective {
                "InternalServerException"
            } else {
                "InternalServerErrorException"
            },
            message: "Internal server error".into(),
        }
    }

    /// 404 `ResourceNotFoundException` (Detective).
    pub fn not_found(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            code: "ResourceNotFoundException",
            message: message.into(),
        }
    }

    /// 400 for a detector id this region does not own.
    pub fn unknown_detector() -> Self {
        Self::bad_request(
            "The request is rejected because the input detectorId is not owned by the current account.",
        )
    }
}

impl IntoResponse for AwsError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "message": self.message, "__type": self.code }).to_string();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert("x-amzn-ErrorType", HeaderValue::from_static(self.code));
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        response
    }
}
