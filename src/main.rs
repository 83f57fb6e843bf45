//! The `challenge` command line (cli.md): check, format, compile, decompile and evaluate
//! fitness challenges.
//!
//! Machine output goes to stdout; diagnostics, rejected records and progress go to stderr.
//! Exit codes: 0 success (warnings allowed), 1 the input has errors, 2 usage or I/O error.
//! This is the only place that reads the clock: `eval` without `--as-of` uses the current time.

mod cli;
mod commands;
mod input;
mod output;
mod render;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

/// How a command ended.
#[derive(Debug)]
pub enum Failure {
    /// The input has errors (exit 1); what to say has been said.
    Input,
    /// A usage or I/O error (exit 2), with its message.
    Usage(String),
}

/// The result of a command.
pub type Outcome = Result<(), Failure>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Check(args) => commands::check::run(&args),
        Command::Fmt(args) => commands::fmt::run(&args),
        Command::Compile(args) => commands::compile::run(&args),
        Command::Decompile(args) => commands::decompile::run(&args),
        Command::Eval(args) => commands::eval::run(&args),
        Command::Profile(args) => commands::profile::run(&args),
        Command::Recommend(args) => commands::recommend::run(&args),
        Command::Leaderboard(args) => commands::leaderboard::run(&args),
        Command::Import(args) => commands::import::run(&args),
        Command::Pipeline(args) => commands::pipeline::run(&args),
        Command::Serve(args) => commands::serve::run(&args),
        Command::Worker(args) => commands::worker::run(&args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input) => ExitCode::from(1),
        Err(Failure::Usage(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}
