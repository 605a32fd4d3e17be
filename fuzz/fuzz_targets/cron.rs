//! Any text as a cron schedule: `InvalidCron` or a schedule whose next times
//! move forward, never a panic.
#![no_main]

use chrono::{TimeZone, Utc};
use hammerwork_api::schedule::CronSchedule;
use hammerwork_api::Error;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(expression) = std::str::from_utf8(data) else {
        return;
    };
    match CronSchedule::parse(expression) {
        Ok(schedule) => {
            let mut at = Utc.with_ymd_and_hms(2026, 2, 28, 23, 59, 59).unwrap();
            for _ in 0..3 {
                match schedule.next_after(at) {
                    Some(next) => {
                        assert!(next > at, "{expression}: {next} is not after {at}");
                        at = next;
                    }
                    None => break,
                }
            }
        }
        Err(Error::InvalidCron { .. }) => {}
        Err(other) => panic!("unexpected error type: {other}"),
    }
});
