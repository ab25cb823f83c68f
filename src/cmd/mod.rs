//! One module per subcommand: parse, call the libraries, print.

pub mod bench;
pub mod bench_planner;
pub mod bench_policy;
pub mod cluster;
pub mod common;
pub mod deploy;
pub mod merge;
pub mod plan;
pub mod plot;
pub mod policy;
pub mod record;
pub mod render;
pub mod replay;
pub mod replay_ros;
pub mod ros;
pub mod run;
pub mod security;
pub mod shard;
pub mod summary;
pub mod train;
pub mod view;
