//! The one error shape of the API (service.md "Requests"):
//! `{"error": {"code": "<kebab-case>", "message": "..."}}`, with `diagnostics` for a challenge
//! that does not check.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rules_front::JsonDiagnostic;
use serde::Serialize;
use utoipa::ToSchema;

/// An error answer: its status, code and message.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The kebab-case code (`bad-request`, `not-found`, ...).
    pub code: &'static str,
    /// What is wrong, in a user's words.
    pub message: String,
    /// The diagnostics of a challenge that does not check (`422`).
    pub diagnostics: Option<Vec<JsonDiagnostic>>,
}

/// The body of an error answer.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A kebab-case code: `bad-request`, `unauthorized`, `forbidden`, `not-found`, `conflict`,
    /// `payload-too-large`, `unsupported-media-type`, `unprocessable`, `unavailable`, `internal`.
    pub code: String,
    /// What is wrong.
    pub message: String,
    /// The challenge's diagnostics (`422` only), as `check --format json` prints them.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub diagnostics: Option<Vec<JsonDiagnostic>>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            diagnostics: None,
        }
    }

    /// `400`: a malformed request.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad-request", message)
    }

    /// `401`: no token, or an unknown one.
    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a known bearer token is needed: `Authorization: Bearer TOKEN`",
        )
    }

    /// `403`: a known token without the right.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// `404`.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not-found", message)
    }

    /// `409`.
    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, "conflict", message)
    }

    /// `413`.
    pub fn too_large(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large", message)
    }

    /// `415`.
    pub fn media_type(message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            message,
        )
    }

    /// `422`: a challenge that does not check, with its diagnostics.
    pub fn unprocessable(message: impl Into<String>, diagnostics: Vec<JsonDiagnostic>) -> ApiError {
        ApiError {
            diagnostics: Some(diagnostics),
            ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable", message)
        }
    }

    /// `503`: the service is shutting down or its writer stopped.
    pub fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }

    /// `500`: the store failed (the message names what; no user data in it).
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(code = self.code, message = %self.message, "request failed");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
                diagnostics: self.diagnostics,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<pipeline::store::StoreError> for ApiError {
    fn from(e: pipeline::store::StoreError) -> ApiError {
        ApiError::internal(e.to_string())
    }
}
