//! `cargo hammerwork`: the operator's command line for Hammerwork.
//!
//! Every command goes through the [`Storage`](hammerwork::Storage) API of the
//! backend the database URL names (`postgres://`, `mysql://` / `mariadb://`,
//! `sqlite://`); the tool has no SQL of its own. See `cargo hammerwork --help`
//! and the README's "Command line" section.

mod backend;
mod cli;
mod commands;
mod error;
mod output;
mod workflow_file;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;

fn main() -> ExitCode {
    // Run as `cargo hammerwork ...`, cargo passes "hammerwork" as the first
    // argument; run as `cargo-hammerwork ...`, it does not.
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "hammerwork") {
        args.remove(1);
    }
    let cli = Cli::parse_from(args);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            err.exit_code()
        }
    }
}
