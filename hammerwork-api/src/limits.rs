//! Size limits on what a job carries, so one caller cannot turn a batch into
//! a statement of gigabytes or fill the table with results nobody reads.
//!
//! The engine enforces them on every backend:
//! - a payload over [`Limits::max_payload_bytes`], or a batch (one
//!   `enqueue_many`, one workflow, one spawn) whose payloads add up to more
//!   than [`Limits::max_batch_bytes`], is refused with
//!   [`Error::TooLarge`](crate::Error::TooLarge) before anything is written;
//! - a handler's result over [`Limits::max_result_bytes`] is not stored: the
//!   attempt fails for good (the job is `Dead`, its error naming the size),
//!   since running the same handler again would return the same result;
//! - an error message or cancel reason over [`Limits::max_error_bytes`] is
//!   cut to fit, ending in a note of its full length.
//!
//! Sizes are those of the compact JSON text (what the database stores).

use std::borrow::Cow;
use std::fmt;

use serde_json::Value;

use crate::JobId;

/// The size limits a storage enforces; see the [module docs](self).
///
/// ```
/// use hammerwork_api::Limits;
///
/// let limits = Limits::default().with_max_payload_bytes(256 << 10);
/// assert_eq!(limits.max_payload_bytes, 256 << 10);
/// assert_eq!(limits.max_batch_bytes, 64 << 20);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest payload of one job, in bytes of JSON. Default 1 MiB.
    pub max_payload_bytes: usize,
    /// Largest sum of payloads written in one transaction (an enqueue call,
    /// a workflow, one spawn's children). Default 64 MiB.
    pub max_batch_bytes: usize,
    /// Largest result a completed job stores. Default 1 MiB.
    pub max_result_bytes: usize,
    /// Longest error message or cancel reason stored; longer ones are cut.
    /// Default 16 KiB.
    pub max_error_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_payload_bytes: 1 << 20,
            max_batch_bytes: 64 << 20,
            max_result_bytes: 1 << 20,
            max_error_bytes: 16 << 10,
        }
    }
}

impl Limits {
    /// Sets [`max_payload_bytes`](Self::max_payload_bytes).
    pub fn with_max_payload_bytes(mut self, bytes: usize) -> Self {
        self.max_payload_bytes = bytes;
        self
    }

    /// Sets [`max_batch_bytes`](Self::max_batch_bytes).
    pub fn with_max_batch_bytes(mut self, bytes: usize) -> Self {
        self.max_batch_bytes = bytes;
        self
    }

    /// Sets [`max_result_bytes`](Self::max_result_bytes).
    pub fn with_max_result_bytes(mut self, bytes: usize) -> Self {
        self.max_result_bytes = bytes;
        self
    }

    /// Sets [`max_error_bytes`](Self::max_error_bytes) (at least 64, room for
    /// the note of the full length).
    pub fn with_max_error_bytes(mut self, bytes: usize) -> Self {
        self.max_error_bytes = bytes.max(64);
        self
    }
}

/// What was over its limit, in [`Error::TooLarge`](crate::Error::TooLarge).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Oversized {
    /// The payload of this job.
    Payload(JobId),
    /// The payloads of a batch of this many jobs, together.
    Batch {
        /// Jobs in the batch.
        jobs: usize,
    },
    /// The result this job's handler returned.
    Result(JobId),
}

impl fmt::Display for Oversized {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Oversized::Payload(id) => write!(f, "the payload of job {id}"),
            Oversized::Batch { jobs } => write!(f, "a batch of {jobs} jobs' payloads"),
            Oversized::Result(id) => write!(f, "the result of job {id}"),
        }
    }
}

/// Bytes of `value`'s compact JSON text, counted without building it.
pub fn json_len(value: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing a `Value` to a sink that never fails cannot fail.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

/// `message` cut to at most `limit` bytes (on a character boundary), ending
/// in a note of its full length; borrowed when it fits.
pub fn truncate_message(message: &str, limit: usize) -> Cow<'_, str> {
    if message.len() <= limit {
        return Cow::Borrowed(message);
    }
    let note = format!(" ... [cut from {} bytes]", message.len());
    let mut end = limit.saturating_sub(note.len());
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}{note}", &message[..end]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_len_is_the_compact_text_length() {
        for value in [
            json!(null),
            json!({"a": [1, 2, "é"]}),
            json!("x".repeat(100)),
        ] {
            assert_eq!(json_len(&value), serde_json::to_vec(&value).unwrap().len());
        }
    }

    #[test]
    fn truncate_keeps_short_messages_and_cuts_on_a_char_boundary() {
        assert!(matches!(
            truncate_message("short", 64),
            Cow::Borrowed("short")
        ));
        let long = "é".repeat(100);
        let cut = truncate_message(&long, 64);
        assert!(cut.len() <= 64, "{} bytes", cut.len());
        assert!(cut.ends_with("[cut from 200 bytes]"), "{cut}");
        assert!(cut.starts_with('é'));
    }
}
