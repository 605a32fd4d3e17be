//! Any JSON as a job payload carrying `_spawn_config` (and any bytes that are
//! not JSON): reading the configuration gives one or `InvalidConfig`, and
//! validating a job with it never panics.
#![no_main]

use hammerwork_api::spawn::SpawnConfig;
use hammerwork_api::validate::validate_job;
use hammerwork_api::Job;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    for payload in [json!({ "_spawn_config": value.clone() }), value] {
        let job = Job::new("fuzz", payload);
        let _ = SpawnConfig::from_job(&job);
        let _ = validate_job(&job);
    }
});
