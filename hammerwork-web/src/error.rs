//! Every error is JSON, `{ "error": { "code", "message" } }`, with the status
//! a client can act on.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    /// An answer with `status`, a stable `code` and a message for people.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400: a malformed id, filter or field.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 409: the action does not apply to the record as it stands.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message for people.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": { "code": self.code, "message": self.message } });
        (self.status, Json(body)).into_response()
    }
}

impl From<hammerwork::Error> for ApiError {
    fn from(err: hammerwork::Error) -> Self {
        use hammerwork::Error as E;
        let message = err.to_string();
        match err {
            E::NotFound { id } => Self::not_found(format!("no job {id}")),
            E::WorkflowNotFound { id } => Self::not_found(format!("no workflow {id}")),
            E::NotApplicable(why) => Self::conflict(why),
            E::DuplicateJob { .. } => Self::conflict(message),
            E::TooLarge { .. } => Self::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", message),
            E::InvalidWorkflowFile(_)
            | E::Cycle { .. }
            | E::MissingDependency { .. }
            | E::InvalidCondition { .. }
            | E::InvalidCron { .. }
            | E::InvalidJob { .. }
            | E::InvalidPayload(_)
            | E::Spawn(_)
            | E::Config(_) => Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message),
            E::Backend(_) | E::Conflict(_) | E::Migration { .. } => {
                tracing::warn!(error = %message, "database error");
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "database", message)
            }
            _ => Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::bad_request(rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::bad_request(rejection.body_text())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let (code, status) = match &rejection {
            JsonRejection::MissingJsonContentType(_) => {
                ("unsupported_media_type", StatusCode::UNSUPPORTED_MEDIA_TYPE)
            }
            JsonRejection::JsonDataError(_) => ("invalid", StatusCode::UNPROCESSABLE_ENTITY),
            JsonRejection::JsonSyntaxError(_) => ("bad_request", StatusCode::BAD_REQUEST),
            _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ("too_large", StatusCode::PAYLOAD_TOO_LARGE)
            }
            _ => ("bad_request", rejection.status()),
        };
        Self::new(status, code, rejection.body_text())
    }
}

/// What handlers return.
pub type ApiResult<T> = Result<T, ApiError>;
