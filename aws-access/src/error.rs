//! The one error type of this crate, with classification methods.
//!
//! A failed AWS call keeps the SDK error as its [`source`](std::error::Error::source); its
//! code, message, HTTP status and the service's retry hint are read once, to classify and to
//! explain. No error ever holds a secret: SSM values are never part of a message.
//!
//! ```
//! use aws_access::Error;
//! let err = Error::missing_field("DescribeUser", "UserName");
//! assert!(err.to_string().contains("UserName"));
//! assert!(!err.is_throttled());
//! ```

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use aws_sdk_identitystore::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::result::SdkError;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An AWS call failed.
    #[error(transparent)]
    Service(Box<ServiceError>),
    /// A response lacked a field the call needs.
    #[error(
        "{operation}: the response has no `{field}`; the service or a test double answered incompletely"
    )]
    MissingField {
        /// The API operation.
        operation: &'static str,
        /// The missing field.
        field: &'static str,
    },
    /// The configuration is not usable.
    #[error("{0}")]
    Config(String),
    /// A role already holds as many managed policies as its quota allows.
    #[error(
        "role {role} already has {attached} of {quota} managed policies attached; detach one or \
         raise the IAM quota \"Managed policies per role\" (L-0DA4ABF3)"
    )]
    RolePolicyQuota {
        /// The role.
        role: String,
        /// Policies attached now.
        attached: usize,
        /// The account's `AttachedPoliciesPerRoleQuota`.
        quota: usize,
    },
}

/// An AWS call that failed: what was called, and what the service said.
#[derive(Debug)]
pub struct ServiceError {
    /// The API operation, such as `CreateUser`.
    pub operation: &'static str,
    /// The service's error code, such as `ConflictException`, when it sent one.
    pub code: Option<String>,
    /// The service's message, when it sent one.
    pub message: Option<String>,
    /// The HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// How long the service asked to wait before retrying.
    pub retry_after: Option<Duration>,
    source: Box<dyn StdError + Send + Sync>,
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed", self.operation)?;
        match (&self.code, &self.message, self.status) {
            (Some(code), Some(message), _) => write!(f, ": {code}: {message}"),
            (Some(code), None, _) => write!(f, ": {code}"),
            (None, Some(message), _) => write!(f, ": {message}"),
            (None, None, Some(status)) => write!(f, ": HTTP {status}"),
            (None, None, None) => write!(f, ": the request did not complete (see the cause)"),
        }
    }
}

impl StdError for ServiceError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(self.source.as_ref())
    }
}

impl Error {
    /// A response lacked `field`.
    ///
    /// ```
    /// let err = aws_access::Error::missing_field("CreateUser", "UserId");
    /// assert!(matches!(err, aws_access::Error::MissingField { field: "UserId", .. }));
    /// ```
    pub fn missing_field(operation: &'static str, field: &'static str) -> Self {
        Error::MissingField { operation, field }
    }

    /// Wraps an SDK error of `operation`, reading its code, message and status.
    pub(crate) fn sdk<E, R>(operation: &'static str, err: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
        R: HasStatus + fmt::Debug + Send + Sync + 'static,
    {
        let status = err.raw_response().map(HasStatus::status_code);
        let (code, message) = match &err {
            SdkError::ServiceError(service) => {
                let e = service.err();
                (e.code().map(str::to_owned), e.message().map(str::to_owned))
            }
            _ => (None, None),
        };
        Error::Service(Box::new(ServiceError {
            operation,
            code,
            message,
            status,
            retry_after: None,
            source: Box::new(err),
        }))
    }

    /// An error as a fake service answers it: the code, message and status a real one sends.
    #[cfg(feature = "fake")]
    pub(crate) fn from_fake(
        operation: &'static str,
        code: &str,
        message: String,
        status: u16,
    ) -> Self {
        Error::Service(Box::new(ServiceError {
            operation,
            code: Some(code.to_owned()),
            message: Some(message.clone()),
            status: Some(status),
            retry_after: None,
            source: message.into(),
        }))
    }

    /// Adds the service's retry hint.
    pub(crate) fn with_retry_after(mut self, wait: Option<Duration>) -> Self {
        if let Error::Service(service) = &mut self {
            service.retry_after = wait;
        }
        self
    }

    fn service(&self) -> Option<&ServiceError> {
        match self {
            Error::Service(service) => Some(service),
            _ => None,
        }
    }

    /// The service's error code, when it sent one.
    ///
    /// ```
    /// assert_eq!(aws_access::Error::Config("x".into()).code(), None);
    /// ```
    pub fn code(&self) -> Option<&str> {
        self.service().and_then(|s| s.code.as_deref())
    }

    /// The HTTP status of the failed call, when a response arrived.
    pub fn status(&self) -> Option<u16> {
        self.service().and_then(|s| s.status)
    }

    /// Whether the credentials may not make the call. Also true for a bare 403 whose body
    /// the SDK could not read (moto answers Identity Store and SSM denials in XML).
    ///
    /// ```
    /// assert!(!aws_access::Error::Config("x".into()).is_access_denied());
    /// ```
    pub fn is_access_denied(&self) -> bool {
        match (self.code(), self.status()) {
            (Some(code), _) => matches!(
                code,
                "AccessDeniedException"
                    | "AccessDenied"
                    | "UnauthorizedOperation"
                    | "AuthFailure"
                    | "InvalidClientTokenId"
                    | "UnrecognizedClientException"
            ),
            (None, status) => status == Some(403),
        }
    }

    /// Whether the service throttled the call.
    pub fn is_throttled(&self) -> bool {
        match (self.code(), self.status()) {
            (Some(code), _) => matches!(
                code,
                "ThrottlingException"
                    | "Throttling"
                    | "RequestLimitExceeded"
                    | "TooManyRequestsException"
                    | "RequestThrottled"
            ),
            (None, status) => status == Some(429),
        }
    }

    /// Whether the object does not exist.
    pub fn is_not_found(&self) -> bool {
        match (self.code(), self.status()) {
            (Some(code), _) => {
                code.ends_with("NotFoundException")
                    || code.ends_with(".NotFound")
                    || matches!(code, "NoSuchEntity" | "ParameterNotFound")
            }
            (None, status) => status == Some(404),
        }
    }

    /// Whether the object exists already (or changed concurrently).
    pub fn is_conflict(&self) -> bool {
        match (self.code(), self.status()) {
            (Some(code), _) => matches!(
                code,
                "ConflictException" | "EntityAlreadyExists" | "ParameterAlreadyExists"
            ),
            (None, status) => status == Some(409),
        }
    }

    /// How long the service asked to wait (Identity Store `ThrottlingException`'s
    /// `RetryAfterSeconds`).
    pub fn retry_after(&self) -> Option<Duration> {
        self.service().and_then(|s| s.retry_after)
    }
}

/// Access to the HTTP status of a raw response, for any response type the SDK uses.
pub(crate) trait HasStatus {
    fn status_code(&self) -> u16;
}

impl HasStatus for aws_smithy_runtime_api::client::orchestrator::HttpResponse {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(code: Option<&str>, status: Option<u16>) -> Error {
        Error::Service(Box::new(ServiceError {
            operation: "Op",
            code: code.map(str::to_owned),
            message: Some("said the service".into()),
            status,
            retry_after: None,
            source: "cause".into(),
        }))
    }

    #[test]
    fn classification_uses_the_code_and_falls_back_to_the_status() {
        let table: [(Option<&str>, Option<u16>, [bool; 4]); 9] = [
            // (code, status) → [denied, throttled, not found, conflict]
            (
                Some("AccessDeniedException"),
                Some(400),
                [true, false, false, false],
            ),
            (
                Some("UnauthorizedOperation"),
                Some(403),
                [true, false, false, false],
            ),
            (None, Some(403), [true, false, false, false]),
            (
                Some("ThrottlingException"),
                Some(400),
                [false, true, false, false],
            ),
            (
                Some("ResourceNotFoundException"),
                Some(400),
                [false, false, true, false],
            ),
            (
                Some("InvalidInstanceID.NotFound"),
                Some(400),
                [false, false, true, false],
            ),
            (
                Some("ConflictException"),
                Some(400),
                [false, false, false, true],
            ),
            // IAM's LimitExceeded is HTTP 409 but not a conflict: the code decides.
            (
                Some("LimitExceeded"),
                Some(409),
                [false, false, false, false],
            ),
            (None, Some(429), [false, true, false, false]),
        ];
        for (code, status, [denied, throttled, not_found, conflict]) in table {
            let err = service(code, status);
            assert_eq!(err.is_access_denied(), denied, "{code:?} {status:?}");
            assert_eq!(err.is_throttled(), throttled, "{code:?} {status:?}");
            assert_eq!(err.is_not_found(), not_found, "{code:?} {status:?}");
            assert_eq!(err.is_conflict(), conflict, "{code:?} {status:?}");
        }
    }

    #[test]
    fn display_names_the_operation_and_what_the_service_said() {
        assert_eq!(
            service(Some("ConflictException"), Some(400)).to_string(),
            "Op failed: ConflictException: said the service"
        );
    }
}
