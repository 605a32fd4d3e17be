//! The conformance cases, one public async function per behaviour. Each takes
//! a storage on an empty database of its own and panics when the backend
//! breaks the promise its name states.

mod cancel;
mod claim;
mod cron;
mod dependency;
mod enqueue;
mod lease;
mod list;
mod listen;
mod retention;
mod settle;
mod spawn;
mod worker;
mod workflow;

pub use cancel::*;
pub use claim::*;
pub use cron::*;
pub use dependency::*;
pub use enqueue::*;
pub use lease::*;
pub use list::*;
pub use listen::*;
pub use retention::*;
pub use settle::*;
pub use spawn::*;
pub use worker::*;
pub use workflow::*;
