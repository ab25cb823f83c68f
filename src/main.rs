//! `embody`: one command line for the simulator, the agent, the policies and the ROS 2 bridge.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;
mod home;

#[derive(Parser)]
#[command(name = "embody", version, about = "Control stack for embodied agents")]
struct Cli {
    /// More log output (repeat for more).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run seeded episodes of a scenario in the simulator and report how they went.
    Run(cmd::run::RunArgs),
    /// Evaluate a policy: `run` with the failure breakdown, time per object and --plot.
    Eval(cmd::run::RunArgs),
    /// Join the outputs of `--shard I/N` runs (run/eval JSON, recording indexes) into what the
    /// unsharded run gives.
    Merge(cmd::merge::MergeArgs),
    /// Render a Kubernetes Indexed Job or a Slurm array script that runs a run/eval/record as
    /// N shards.
    Cluster(cmd::cluster::ClusterArgs),
    /// The diffusion policy as a ROS 2 service (`policy serve MODEL`): robots ask it for chunks
    /// with `--policy remote[:NAME]`.
    Policy(cmd::policy::PolicyArgs),
    /// Plan an instruction in a seeded scene and print the plan (or the refusal); no motion.
    Plan(cmd::plan::PlanArgs),
    /// Record episodes, one MCAP log per seed plus an index: scripted-expert demonstrations, or a
    /// learned --policy with the expert taking over (a correction round).
    Record(cmd::record::RecordArgs),
    /// Turn recorded episodes into training arrays (the policy's features, as .npy).
    Dataset(cmd::train::DatasetArgs),
    /// Export recorded episodes for other tools (`export lerobot DEMOS OUT`).
    Export(cmd::train::ExportArgs),
    /// Train the diffusion policy on recorded episodes and export it (policies/train/train.py).
    Train(cmd::train::TrainArgs),
    /// Distill a trained diffusion policy into a one- or two-step sampler (`--sampler
    /// consistency`; policies/train/distill.py).
    Distill(cmd::train::DistillArgs),
    /// Inspect a log (--summary) or re-simulate it and check it is bit-exact (--verify).
    Replay(cmd::replay::ReplayArgs),
    /// Benchmarks (simulator speed).
    Bench(cmd::bench::BenchArgs),
    /// A scenario's camera image, depth and segmentation as PNG, and camera perception's error.
    Render(cmd::render::RenderArgs),
    /// The simulator as a ROS 2 robot (--ros), on the wall clock.
    Sim(cmd::ros::SimArgs),
    /// Run an instruction on a robot over ROS 2 (ros2_control conventions).
    Deploy(cmd::deploy::DeployArgs),
    /// Software e-stop: publish `true` on the e-stop topic.
    Estop(cmd::ros::EstopArgs),
    /// DDS-Security: a keystore and enclaves (SROS2's layout) so that only embody's own,
    /// authorized nodes read the robot and command the arm (`--enclave` on the ROS 2 commands).
    Security(cmd::security::SecurityCmdArgs),
    /// Watch a scenario run live, or play a log with a timeline (Bevy; `--features viewer`).
    View(cmd::view::ViewArgs),
}

fn main() -> ExitCode {
    // `embody ... | head` should end quietly, like any Unix tool, not panic on a closed pipe.
    #[cfg(unix)]
    // SAFETY: restoring the default action of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let level = match cli.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                // RustDDS reports routine shutdown steps as errors; ros2-client warns that
                // no ROS is sourced, which is the point of it.
                let dds = if cli.verbose >= 2 {
                    ""
                } else {
                    ",rustdds=off,ros2_client=error"
                };
                tracing_subscriber::EnvFilter::new(format!("{level}{dds}"))
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Command::Run(a) | Command::Eval(a) => cmd::run::run(a),
        Command::Plan(a) => cmd::plan::run(a),
        Command::Policy(a) => cmd::policy::run(a),
        Command::Merge(a) => cmd::merge::run(a),
        Command::Cluster(a) => cmd::cluster::run(a),
        Command::View(a) => cmd::view::run(a),
        Command::Record(a) => cmd::record::run(a),
        Command::Dataset(a) => cmd::train::dataset(a),
        Command::Train(a) => cmd::train::train(a),
        Command::Distill(a) => cmd::train::distill(a),
        Command::Export(a) => cmd::train::export(a),
        Command::Replay(a) => cmd::replay::run(a),
        Command::Bench(a) => cmd::bench::run(a),
        Command::Render(a) => cmd::render::run(a),
        Command::Sim(a) => cmd::ros::sim(a),
        Command::Deploy(a) => cmd::deploy::deploy(a),
        Command::Estop(a) => cmd::ros::estop(a),
        Command::Security(a) => cmd::security::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
