//! `embody bench`: speed figures measured in one run.

use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};

#[derive(Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub what: BenchWhat,
}

#[derive(Subcommand)]
pub enum BenchWhat {}

pub fn run(a: BenchArgs) -> Result<ExitCode> {
    match a.what {}
}
