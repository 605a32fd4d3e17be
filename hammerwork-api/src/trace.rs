//! Ids that follow work across services: a distributed trace id and a
//! business correlation id, carried by jobs and workflows into each job's
//! tracing span.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A distributed trace id, in the W3C Trace Context form (32 lowercase hex
/// digits), or any id a tracing system gave you.
///
/// ```
/// use hammerwork_api::{Job, TraceId};
///
/// let trace = TraceId::new();
/// assert_eq!(trace.to_string().len(), 32);
/// let job = Job::new("emails", serde_json::json!({})).with_trace_id(trace.clone());
/// assert_eq!(job.trace_id.as_deref(), Some(trace.as_str()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TraceId(String);

impl TraceId {
    /// A fresh random trace id.
    pub fn new() -> Self {
        TraceId(Uuid::new_v4().simple().to_string())
    }

    /// An id given by a tracing system.
    pub fn from_string(id: impl Into<String>) -> Self {
        TraceId(id.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for TraceId {
    fn default() -> Self {
        Self::new()
    }
}

/// An id that ties jobs to a business event (an order, a report run), so an
/// operator can find every job of it.
///
/// ```
/// use hammerwork_api::{CorrelationId, JobGroup};
///
/// let run = CorrelationId::from_business_id("daily-report-001");
/// let group = JobGroup::new("report").with_correlation_id(run.to_string());
/// assert_eq!(run.as_str(), "daily-report-001");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CorrelationId(String);

impl CorrelationId {
    /// A fresh random correlation id (a UUID).
    pub fn new() -> Self {
        CorrelationId(Uuid::now_v7().to_string())
    }

    /// The id of the business event itself, e.g. `"order-42"`.
    pub fn from_business_id(id: impl Into<String>) -> Self {
        CorrelationId(id.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for CorrelationId {
    fn default() -> Self {
        Self::new()
    }
}

macro_rules! text_id {
    ($($ty:ident),*) => {$(
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<$ty> for String {
            fn from(id: $ty) -> String {
                id.0
            }
        }

        impl From<&$ty> for String {
            fn from(id: &$ty) -> String {
                id.0.clone()
            }
        }
    )*};
}

text_id!(TraceId, CorrelationId);
