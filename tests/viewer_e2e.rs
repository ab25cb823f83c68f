//! The Bevy viewer in a real window on a virtual X server (Xvfb, Mesa's lavapipe for Vulkan):
//! it plays a recorded log to its end and saves a screenshot that shows the scene, and it
//! watches a live episode to its end. Built only with `--features viewer` (scripts/test.sh runs
//! it after the rest, with xvfb and mesa-vulkan-drivers installed).

#![cfg(feature = "viewer")]

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{embody, last_json, repo};

/// One X server at a time: `xvfb-run -a` picks a free display number, but two started at the same
/// instant can pick the same one.
static XVFB: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// `embody view ...` under `xvfb-run`, with a generous limit: lavapipe compiles shaders on the
/// first frames.
fn view(args: &[&str]) -> Output {
    let _one_at_a_time = XVFB.lock().unwrap_or_else(|e| e.into_inner());
    let out = Command::new("timeout")
        .args(["300", "xvfb-run", "-a", "-s", "-screen 0 1280x800x24"])
        .arg(env!("CARGO_BIN_EXE_embody"))
        .arg("view")
        .args(args)
        .current_dir(repo())
        .output()
        .expect("xvfb-run starts (scripts/test.sh installs xvfb)");
    assert!(
        out.status.success(),
        "embody view failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Counts pixels near each of the given colours.
fn count_near(rgb: &[u8], colours: &[[u8; 3]], tolerance: i32) -> Vec<usize> {
    let mut counts = vec![0; colours.len()];
    for px in rgb.chunks_exact(3) {
        for (k, c) in colours.iter().enumerate() {
            if (0..3).all(|i| (px[i] as i32 - c[i] as i32).abs() <= tolerance) {
                counts[k] += 1;
            }
        }
    }
    counts
}

fn read_rgb(path: &Path) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let rgb = buf[..info.buffer_size()]
        .chunks_exact(channels)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    (info.width, info.height, rgb)
}

#[test]
fn plays_a_log_to_the_end_and_screenshots_the_scene() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("ep.mcap");
    let log_s = log.to_str().unwrap();
    let out = embody(&[
        "run",
        "scenarios/table_clearing.toml",
        "--policy",
        "scripted",
        "--seed",
        "1",
        "--log",
        log_s,
        "--json",
        "-q",
    ]);
    assert!(out.status.success());
    let shot = repo().join("target/viewer_e2e_log.png");
    let _ = std::fs::remove_file(&shot);
    let out = view(&[
        log_s,
        "--speed",
        "16",
        "--size",
        "800x500",
        "--exit-at-end",
        "--screenshot",
        shot.to_str().unwrap(),
        "--json",
    ]);
    let shown = last_json(&out);
    assert_eq!(shown["reached_end"], true, "{shown}");
    assert_eq!(shown["shown_t"], shown["end_t"], "{shown}");
    assert_eq!(shown["success"], true, "{shown}");
    assert!(shown["frames_rendered"].as_u64().unwrap() > 10, "{shown}");

    // The screenshot shows the scene: the table, the arm, the bin, and nothing uniform.
    let (w, h, rgb) = read_rgb(&shot);
    let pixels = (w * h) as usize;
    assert!(w >= 800 && h >= 500, "{w}x{h}");
    let distinct: std::collections::BTreeSet<_> = rgb.chunks_exact(3).collect();
    assert!(
        distinct.len() > 200,
        "{} colours: not a rendered scene",
        distinct.len()
    );
    // Shaded colours of the scene (sRGB): background, table wood, a lit grey robot.
    let background = count_near(&rgb, &[[40, 44, 52]], 4)[0];
    assert!(
        background < pixels * 3 / 4,
        "mostly background: the scene is not drawn"
    );
    let warm = rgb
        .chunks_exact(3)
        .filter(|p| p[0] as i32 > p[2] as i32 + 40 && p[1] as i32 > p[2] as i32 + 15)
        .count();
    assert!(warm > pixels / 50, "no table-coloured pixels ({warm})");
    let light_grey = rgb
        .chunks_exact(3)
        .filter(|p| {
            p.iter().all(|&v| v > 150) && p.iter().max().unwrap() - p.iter().min().unwrap() < 25
        })
        .count();
    assert!(light_grey > 200, "no arm-coloured pixels ({light_grey})");
}

#[test]
fn watches_a_live_episode_to_its_end() {
    let out = view(&[
        "scenarios/table_clearing.toml",
        "--policy",
        "scripted",
        "--seed",
        "2",
        "--speed",
        "32",
        "--size",
        "640x400",
        "--exit-at-end",
        "--json",
    ]);
    let shown = last_json(&out);
    assert_eq!(shown["reached_end"], true, "{shown}");
    assert_eq!(shown["success"], true, "{shown}");
    assert!(shown["end_t"].as_f64().unwrap() > 10.0, "{shown}");
}
