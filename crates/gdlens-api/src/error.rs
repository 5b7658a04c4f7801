//! The one user-facing error type at the GraphQL edge: every error carries a stable
//! `extensions.code` from [`ErrorCode`] (the GraphQL and HTTP surface's one enum); internal
//! detail is logged, never returned.

use async_graphql::ErrorExtensions;

/// Stable error codes (the `extensions.code` clients switch on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// No or unknown token.
    Unauthenticated,
    /// The token's role or scope does not allow this.
    Forbidden,
    /// Bad argument (names the argument).
    BadUserInput,
    /// The id does not exist (or is outside the caller's scope).
    NotFound,
    /// `expectedVersion` did not match the stored triage version.
    StaleVersion,
    /// `first` above the cap.
    PageTooLarge,
    /// Write-back requested but no AWS write-back is configured.
    NotConfigured,
    /// GuardDuty refused or failed the write-back.
    UpstreamError,
    /// Something broke on our side; detail is in the log.
    Internal,
    /// The HTTP request is not a GraphQL request (missing query, bad JSON, bad media type).
    BadRequest,
    /// The document does not parse.
    GraphqlParseFailed,
    /// The document does not validate against the schema.
    GraphqlValidationFailed,
    /// Complexity above `max_query_complexity` (list fields cost by `first` / `limit`).
    QueryTooComplex,
    /// Depth above `max_query_depth`.
    QueryTooDeep,
    /// More aliased fields than `max_aliases`.
    TooManyAliases,
    /// More root fields than `max_root_fields`.
    TooManyRootFields,
    /// The request used up its CPU budget (`request_cpu_budget_ms`) and was stopped.
    BudgetExceeded,
    /// The response would be larger than `max_response_bytes`.
    ResponseTooLarge,
    /// A POST whose `Content-Type` is not JSON or GraphQL (a "simple" cross-site request).
    UnsupportedMediaType,
    /// The `Host` header is not loopback nor in `server.allowed_hosts` (DNS rebinding).
    HostNotAllowed,
    /// A cross-site `Origin` that CORS does not allow.
    ForbiddenOrigin,
    /// A GuardDuty `findingCriteria` or suppression rule GuardDuty would refuse (the message
    /// starts with the precise `CRITERIA_*` / `RULE_*` code of gdlens-suppress).
    InvalidCriteria,
    /// The shared store (PostgreSQL) cannot be reached: reads are answered from memory, writes
    /// are refused until it is back (retry later).
    StoreUnavailable,
    /// A subscriber read its events too slowly and was disconnected.
    SlowConsumer,
    /// More subscriptions on one connection than `live.max_subscriptions_per_connection`.
    TooManySubscriptions,
    /// More live connections for one token than `live.max_connections_per_token`.
    TooManyConnections,
}

impl ErrorCode {
    /// The wire spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::NotFound => "NOT_FOUND",
            Self::StaleVersion => "STALE_VERSION",
            Self::PageTooLarge => "PAGE_TOO_LARGE",
            Self::NotConfigured => "NOT_CONFIGURED",
            Self::UpstreamError => "UPSTREAM_ERROR",
            Self::Internal => "INTERNAL",
            Self::BadRequest => "BAD_REQUEST",
            Self::GraphqlParseFailed => "GRAPHQL_PARSE_FAILED",
            Self::GraphqlValidationFailed => "GRAPHQL_VALIDATION_FAILED",
            Self::QueryTooComplex => "QUERY_TOO_COMPLEX",
            Self::QueryTooDeep => "QUERY_TOO_DEEP",
            Self::TooManyAliases => "TOO_MANY_ALIASES",
            Self::TooManyRootFields => "TOO_MANY_ROOT_FIELDS",
            Self::BudgetExceeded => "BUDGET_EXCEEDED",
            Self::ResponseTooLarge => "RESPONSE_TOO_LARGE",
            Self::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Self::HostNotAllowed => "HOST_NOT_ALLOWED",
            Self::ForbiddenOrigin => "FORBIDDEN_ORIGIN",
            Self::InvalidCriteria => "INVALID_CRITERIA",
            Self::StoreUnavailable => "STORE_UNAVAILABLE",
            Self::SlowConsumer => "SLOW_CONSUMER",
            Self::TooManySubscriptions => "TOO_MANY_SUBSCRIPTIONS",
            Self::TooManyConnections => "TOO_MANY_CONNECTIONS",
        }
    }

    /// Every code, in declaration order (for docs, tests and the fuzz harness).
    pub const ALL: [ErrorCode; 26] = [
        Self::Unauthenticated,
        Self::Forbidden,
        Self::BadUserInput,
        Self::NotFound,
        Self::StaleVersion,
        Self::PageTooLarge,
        Self::NotConfigured,
        Self::UpstreamError,
        Self::Internal,
        Self::BadRequest,
        Self::GraphqlParseFailed,
        Self::GraphqlValidationFailed,
        Self::QueryTooComplex,
        Self::QueryTooDeep,
        Self::TooManyAliases,
        Self::TooManyRootFields,
        Self::BudgetExceeded,
        Self::ResponseTooLarge,
        Self::UnsupportedMediaType,
        Self::HostNotAllowed,
        Self::ForbiddenOrigin,
        Self::InvalidCriteria,
        Self::StoreUnavailable,
        Self::SlowConsumer,
        Self::TooManySubscriptions,
        Self::TooManyConnections,
    ];
}

/// An error returned to a GraphQL client. Deliberately not `Display`: that keeps async-graphql's
/// blanket conversion (which would drop the code) away, so `?` always goes through the impl below.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// Stable code.
    pub code: ErrorCode,
    /// Safe, human message.
    pub message: String,
}

impl ApiError {
    /// An error with a code and a message safe to show.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
        }
    }

    /// `BAD_USER_INPUT` naming the argument.
    pub fn bad_input(argument: &str, message: impl std::fmt::Display) -> Self {
        Self::new(
            ErrorCode::BadUserInput,
            format!("argument `{argument}`: {message}"),
        )
    }

    /// Logs `detail` and returns a generic `INTERNAL` error.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error while resolving a GraphQL request");
        Self::new(ErrorCode::Internal, "internal error (see server log)")
    }

    /// `FORBIDDEN`.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(e: ApiError) -> Self {
        async_graphql::Error::new(e.message).extend_with(|_, ext| ext.set("code", e.code.as_str()))
    }
}

/// Result type of resolvers.
pub type ApiResult<T> = Result<T, ApiError>;
