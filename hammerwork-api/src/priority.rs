use serde::{Deserialize, Serialize};

/// How urgently a job should run. Higher priorities are claimed first within a
/// queue; among equal priorities the earlier `scheduled_at` wins.
///
/// Priority never overrides readiness: a delayed job (or, later, one waiting on
/// dependencies) is not claimed before its time whatever its priority.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum JobPriority {
    /// Runs when nothing else is waiting.
    Background,
    /// Below normal.
    Low,
    /// The default.
    #[default]
    Normal,
    /// Above normal.
    High,
    /// Ahead of everything else.
    Critical,
}

impl JobPriority {
    /// Every priority, lowest first.
    pub const ALL: [JobPriority; 5] = [
        JobPriority::Background,
        JobPriority::Low,
        JobPriority::Normal,
        JobPriority::High,
        JobPriority::Critical,
    ];

    /// The stored integer: Background = 0 ... Critical = 4 (higher runs first).
    pub fn as_i16(self) -> i16 {
        match self {
            JobPriority::Background => 0,
            JobPriority::Low => 1,
            JobPriority::Normal => 2,
            JobPriority::High => 3,
            JobPriority::Critical => 4,
        }
    }

    /// The inverse of [`JobPriority::as_i16`]; values outside 0..=4 are clamped.
    pub fn from_i16(value: i16) -> Self {
        match value {
            i16::MIN..=0 => JobPriority::Background,
            1 => JobPriority::Low,
            2 => JobPriority::Normal,
            3 => JobPriority::High,
            _ => JobPriority::Critical,
        }
    }
}

impl JobPriority {
    /// The name `FromStr` reads: `"background"`, `"low"`, `"normal"`,
    /// `"high"`, `"critical"`.
    pub fn as_str(self) -> &'static str {
        match self {
            JobPriority::Background => "background",
            JobPriority::Low => "low",
            JobPriority::Normal => "normal",
            JobPriority::High => "high",
            JobPriority::Critical => "critical",
        }
    }
}

impl std::str::FromStr for JobPriority {
    type Err = crate::Error;

    /// A priority by name, any case.
    fn from_str(s: &str) -> crate::Result<Self> {
        JobPriority::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| crate::Error::Config(format!("unknown priority {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_orders() {
        for p in [
            JobPriority::Background,
            JobPriority::Low,
            JobPriority::Normal,
            JobPriority::High,
            JobPriority::Critical,
        ] {
            assert_eq!(JobPriority::from_i16(p.as_i16()), p);
        }
        assert!(JobPriority::Critical > JobPriority::Normal);
        assert!(JobPriority::Critical.as_i16() > JobPriority::Background.as_i16());
    }
}
