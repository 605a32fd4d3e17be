//! Any text as a job condition: parsing returns a condition or
//! `InvalidCondition`, never panics or overflows the stack; a parsed
//! condition evaluates against any JSON context, and parses again from its
//! own text.
#![no_main]

use hammerwork_api::workflow::Condition;
use hammerwork_api::Error;
use libfuzzer_sys::fuzz_target;
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    match Condition::parse(source) {
        Ok(condition) => {
            let contexts = [
                json!(null),
                json!({"parent": {"result": {"ok": true, "n": 3, "s": "x"}}}),
                json!({"a": [1, 2, {"b": null}], "status": "completed"}),
            ];
            for context in &contexts {
                condition.evaluate(context);
            }
            Condition::parse(condition.as_str()).expect("a parsed condition parses again");
        }
        Err(Error::InvalidCondition { pos, .. }) => assert!(pos <= source.len()),
        Err(other) => panic!("unexpected error type: {other}"),
    }
});
