//! Requests that change something must be JSON and must not come from a
//! browser on another site: a page elsewhere cannot make an operator's
//! browser cancel a workflow (an HTML form cannot send `application/json`,
//! and browsers say where a request comes from). Pages of the origins
//! configured for CORS are the exception.
//!
//! Every handler that changes something takes [`Action`] as its first
//! argument (a test sends each `POST` of the OpenAPI document as text and
//! expects 415), so a path or method that does not exist is still 404 / 405.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};

use crate::error::ApiError;
use crate::AppState;

/// Proof that a state-changing request is JSON and not cross-site.
pub(crate) struct Action;

impl FromRequestParts<AppState> for Action {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let headers = &parts.headers;
        let json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        if !json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "a request that changes something must be Content-Type: application/json",
            ));
        }
        let origin = headers.get(header::ORIGIN);
        if origin.is_some_and(|origin| state.config.cors_origins.contains(origin)) {
            return Ok(Action);
        }
        // Browsers send Sec-Fetch-Site; older ones at least Origin.
        let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
        let cross_site = match site {
            Some(site) => !matches!(site, "same-origin" | "none"),
            None => match (
                origin.and_then(|v| v.to_str().ok()),
                headers.get(header::HOST).and_then(|v| v.to_str().ok()),
            ) {
                (Some(origin), Some(host)) => {
                    origin.split_once("://").map(|(_, rest)| rest) != Some(host)
                }
                (Some(_), None) => true,
                (None, _) => false,
            },
        };
        if cross_site {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "cross_site",
                "a request that changes something must come from this site",
            ));
        }
        Ok(Action)
    }
}
