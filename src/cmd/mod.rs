//! One module per subcommand: parse, call the libraries, print.

pub mod bench;
pub mod bench_planner;
pub mod bench_policy;
pub mod common;
pub mod plan;
pub mod plot;
pub mod record;
pub mod render;
pub mod replay;
pub mod ros;
pub mod run;
pub mod train;
pub mod view;
