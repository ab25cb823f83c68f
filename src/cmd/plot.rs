//! Evaluation results as a PNG, drawn with `plotters` (no Python): success and objects
//! cleared per scene family (beside the baseline's when there is one), objects disturbed per
//! episode (the other half of the README's success: everything else left where it was), and
//! failed episodes and skill attempts by cause.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{anyhow, Context, Result};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde_json::Value;

/// The font the PNGs are labelled with, shipped in the binary so it draws the same anywhere.
const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";

const POLICY_RGB: RGBColor = RGBColor(46, 110, 180);
const BASELINE_RGB: RGBColor = RGBColor(150, 150, 150);
const FAILURE_RGB: RGBColor = RGBColor(200, 60, 50);

fn register_font() -> Result<()> {
    // plotters keeps fonts by family name; registering twice replaces the same bytes.
    plotters::style::register_font(FAMILY, FontStyle::Normal, FONT)
        .map_err(|_| anyhow!("the shipped font cannot be read"))
}

/// Writes the figure for `summaries` (one per family; `baselines` the same families with the
/// baseline policy, or empty).
pub fn eval_png(png: &Path, summaries: &[Value], baselines: &[Value]) -> Result<()> {
    register_font()?;
    let width = 1560u32;
    let height = 460u32;
    let root = BitMapBackend::new(png, (width, height)).into_drawing_area();
    let draw = || -> Result<()> {
        root.fill(&WHITE)?;
        let title = match summaries {
            [one] => format!(
                "{} / {}  ({} episodes{})",
                one["scenario"].as_str().unwrap_or_default(),
                one["policy"].as_str().unwrap_or_default(),
                one["episodes"],
                one["time_per_object_s"]
                    .as_f64()
                    .map(|t| format!(", {t:.1} s per object"))
                    .unwrap_or_default()
            ),
            _ => format!(
                "{} families / {}",
                summaries.len(),
                summaries
                    .first()
                    .and_then(|s| s["policy"].as_str())
                    .unwrap_or_default()
            ),
        };
        let (top, body) = root.split_vertically(40);
        top.draw(&Text::new(
            title,
            ((width / 2) as i32, 22),
            (FAMILY, 20)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Center)),
        ))?;
        let (left, right) = body.split_horizontally(width / 3);
        let (disturbance, right) = right.split_horizontally(width / 5);
        let (middle, right) = right.split_horizontally((width - width / 3 - width / 5) / 2);
        rates_panel(&left, summaries, baselines)?;
        disturbance_panel(&disturbance, summaries, baselines)?;
        kinds_panel(
            &middle,
            summaries,
            "failed_episodes_by_kind",
            "failed episodes by cause",
        )?;
        kinds_panel(
            &right,
            summaries,
            "failed_attempts_by_kind",
            "failed skill attempts by cause",
        )?;
        root.present()?;
        Ok(())
    };
    draw().with_context(|| format!("cannot draw {}", png.display()))
}

/// Success and objects cleared per family, as bars (the baseline's beside them).
fn rates_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    summaries: &[Value],
    baselines: &[Value],
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let names = family_labels(summaries);
    let n = names.len().max(1) as f64;
    let mut chart = ChartBuilder::on(area)
        .caption("success (solid) and objects cleared (light)", (FAMILY, 16))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(40)
        // Headroom above 1.0 for the legend.
        .build_cartesian_2d(0.0..n, 0.0..1.3)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(names.len().max(1) * 2 + 1)
        .x_label_formatter(&|x| centred_label(&names, *x))
        .label_style((FAMILY, 12))
        .draw()?;
    let with_baseline = !baselines.is_empty();
    let width = if with_baseline { 0.2 } else { 0.35 };
    for (i, s) in summaries.iter().enumerate() {
        let x0 = i as f64 + 0.1;
        let bars = policy_and_baseline(s, baselines.get(i));
        for (k, (v, color)) in bars.iter().enumerate() {
            let success = v["success_rate"].as_f64().unwrap_or(0.0);
            let cleared = v["objects_cleared_rate"].as_f64().unwrap_or(0.0);
            let xa = x0 + k as f64 * 2.0 * width;
            chart.draw_series([
                Rectangle::new([(xa, 0.0), (xa + width, success)], color.filled()),
                Rectangle::new(
                    [(xa + width, 0.0), (xa + 2.0 * width, cleared)],
                    color.mix(0.4).filled(),
                ),
            ])?;
            chart.draw_series([Text::new(
                format!("{success:.2}"),
                (xa, success + 0.04),
                (FAMILY, 12).into_font(),
            )])?;
        }
    }
    if with_baseline {
        chart
            .draw_series([Rectangle::new(
                [(0.0, 0.0), (0.0, 0.0)],
                POLICY_RGB.filled(),
            )])?
            .label(
                summaries
                    .first()
                    .and_then(|s| s["policy"].as_str())
                    .unwrap_or("policy"),
            )
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], POLICY_RGB.filled()));
        chart
            .draw_series([Rectangle::new(
                [(0.0, 0.0), (0.0, 0.0)],
                BASELINE_RGB.filled(),
            )])?
            .label(
                baselines
                    .first()
                    .and_then(|s| s["policy"].as_str())
                    .unwrap_or("baseline"),
            )
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], BASELINE_RGB.filled()));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .label_font((FAMILY, 12))
            .draw()?;
    }
    Ok(())
}

/// The label of the unit-wide slot a tick sits in the middle of; the other ticks are blank
/// (one bar group or one row per slot).
fn centred_label(labels: &[String], v: f64) -> String {
    let i = v.floor() as usize;
    if (v - v.floor() - 0.5).abs() < 1e-6 && i < labels.len() {
        labels[i].clone()
    } else {
        String::new()
    }
}

/// Each family's short name under its bars: `table_clearing_varied` reads `varied`.
fn family_labels(summaries: &[Value]) -> Vec<String> {
    summaries
        .iter()
        .map(|s| {
            let name = s["scenario"].as_str().unwrap_or_default();
            match name.rsplit_once("table_clearing_") {
                Some((_, short)) if !short.is_empty() => short.to_string(),
                _ => name.to_string(),
            }
        })
        .collect()
}

/// A family's bars: the policy's, then the baseline's when there is one.
fn policy_and_baseline<'a>(
    s: &'a Value,
    baseline: Option<&'a Value>,
) -> Vec<(&'a Value, RGBColor)> {
    std::iter::once((s, POLICY_RGB))
        .chain(baseline.map(|b| (b, BASELINE_RGB)))
        .collect()
}

/// Objects disturbed per episode, per family (the baseline's beside them).
fn disturbance_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    summaries: &[Value],
    baselines: &[Value],
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let per_episode = |v: &Value| v["disturbed_objects_per_episode"].as_f64().unwrap_or(0.0);
    let names = family_labels(summaries);
    let n = names.len().max(1) as f64;
    let max = summaries
        .iter()
        .chain(baselines)
        .map(per_episode)
        .fold(0.0, f64::max);
    // A scale that shows 0.1 as a small bar, not as the whole panel.
    let top = (max * 1.25).max(0.5);
    let mut chart = ChartBuilder::on(area)
        .caption("objects disturbed per episode", (FAMILY, 16))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(36)
        .build_cartesian_2d(0.0..n, 0.0..top)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(names.len().max(1) * 2 + 1)
        .x_label_formatter(&|x| centred_label(&names, *x))
        // Few labels, two decimals: many labels at one decimal repeat themselves.
        .y_labels(6)
        .y_label_formatter(&|y| format!("{y:.2}"))
        .label_style((FAMILY, 12))
        .draw()?;
    let width = if baselines.is_empty() { 0.6 } else { 0.35 };
    for (i, s) in summaries.iter().enumerate() {
        let bars = policy_and_baseline(s, baselines.get(i));
        for (k, (v, color)) in bars.iter().enumerate() {
            let d = per_episode(v);
            let xa = i as f64 + 0.15 + k as f64 * width;
            chart.draw_series([Rectangle::new(
                [(xa, 0.0), (xa + width * 0.9, d)],
                color.filled(),
            )])?;
            chart.draw_series([Text::new(
                format!("{d:.2}"),
                (xa, d + top * 0.03),
                (FAMILY, 11).into_font(),
            )])?;
        }
    }
    Ok(())
}

/// Counts by failure kind, added over the families, as horizontal bars.
fn kinds_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    summaries: &[Value],
    key: &str,
    title: &str,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for s in summaries {
        if let Some(m) = s[key].as_object() {
            for (k, v) in m {
                *counts.entry(k.clone()).or_default() += v.as_u64().unwrap_or(0);
            }
        }
    }
    let kinds: Vec<(String, u64)> = counts.into_iter().collect();
    let max = kinds.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1) as f64;
    let rows = kinds.len().max(1) as f64;
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FAMILY, 16))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(110)
        .build_cartesian_2d(0.0..max * 1.15, 0.0..rows)?;
    let labels: Vec<String> = kinds.iter().map(|(k, _)| k.clone()).collect();
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(labels.len().max(1) * 2 + 1)
        .y_label_formatter(&|y| centred_label(&labels, *y))
        // Whole counts only: with a small maximum, more labels than counts print repeats.
        .x_labels((max as usize + 1).min(10))
        .x_label_formatter(&|x| format!("{x:.0}"))
        .label_style((FAMILY, 12))
        .draw()?;
    if kinds.is_empty() {
        chart.draw_series([Text::new(
            "none".to_string(),
            (max * 0.5, rows * 0.5),
            (FAMILY, 16).into_font(),
        )])?;
        return Ok(());
    }
    for (i, (_, v)) in kinds.iter().enumerate() {
        let y = i as f64;
        chart.draw_series([Rectangle::new(
            [(0.0, y + 0.2), (*v as f64, y + 0.8)],
            FAILURE_RGB.filled(),
        )])?;
        chart.draw_series([Text::new(
            v.to_string(),
            (*v as f64 + max * 0.02, y + 0.35),
            (FAMILY, 12).into_font(),
        )])?;
    }
    Ok(())
}
