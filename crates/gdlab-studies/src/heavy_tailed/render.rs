//! Report pieces shared by the synthetic study and the text mode: the step-size table, the
//! 10-group table, per-group curves and overall loss curves.

use gdlab_imbalance::groups::FrequencyGroups;
use gdlab_optim::tune::TuneResult;

use super::train::{Method, RunTrace};
use crate::report::{fmt_num, LinePlot, Report, Series};
use crate::study::StudyError;

/// A method's tuning outcome and its run at the chosen step size (tuning seed).
pub(super) struct Tuned {
    pub method: Method,
    pub gated: bool,
    pub tune: TuneResult,
    /// The run at the chosen step size on the tuning seed (None: every step diverged).
    pub trace: Option<RunTrace>,
}

fn fmt_exp(k: f64) -> String {
    format!("10^{}", fmt_num(k))
}

/// The chosen step sizes and every trial's final loss.
pub(super) fn step_size_table(
    report: &mut Report,
    tuned: &[Tuned],
    title: &str,
) -> Result<(), StudyError> {
    let rows = tuned
        .iter()
        .map(|t| {
            let trials = t
                .tune
                .trials
                .iter()
                .map(|tr| {
                    format!(
                        "{}: {}",
                        fmt_exp(tr.exponent),
                        tr.final_loss.map_or("diverged".to_string(), fmt_num)
                    )
                })
                .collect::<Vec<_>>()
                .join("; ");
            vec![
                format!(
                    "{}{}",
                    t.method.label(),
                    if t.gated { "" } else { " (unscored)" }
                ),
                trials,
                t.tune.best.map_or("none (all diverged)".to_string(), |b| {
                    let ks = t.tune.trials.iter().map(|tr| tr.exponent);
                    let lo = ks.clone().fold(f64::INFINITY, f64::min);
                    let hi = ks.fold(f64::NEG_INFINITY, f64::max);
                    let edge = b.exponent.to_bits() == lo.to_bits()
                        || b.exponent.to_bits() == hi.to_bits();
                    format!(
                        "{}{}",
                        fmt_exp(b.exponent),
                        if edge { " (grid edge)" } else { "" }
                    )
                }),
            ]
        })
        .collect();
    report.table(
        title,
        &["method", "final loss per step size", "chosen"],
        rows,
    )?;
    Ok(())
}

/// Final loss of a trace, formatted ("diverged" when it did).
pub(super) fn fmt_final(trace: Option<&RunTrace>) -> String {
    match trace {
        Some(t) if t.diverged_at.is_none() => t.losses.last().map_or("—".into(), |&l| fmt_num(l)),
        Some(t) => format!("diverged at step {}", t.diverged_at.unwrap_or(0)),
        None => "—".into(),
    }
}

/// The G-group table at the last step: one column per method (unscored marked).
pub(super) fn group_table(
    report: &mut Report,
    groups: &FrequencyGroups,
    tuned: &[Tuned],
    title: &str,
) -> Result<(), StudyError> {
    let mut headers: Vec<String> = vec![
        "group".into(),
        "classes".into(),
        "samples".into(),
        "loss at t = 0".into(),
    ];
    for t in tuned {
        headers.push(format!(
            "{}{}",
            t.method.label(),
            if t.gated { "" } else { "*" }
        ));
    }
    let init = tuned
        .iter()
        .find_map(|t| t.trace.as_ref())
        .and_then(|tr| tr.group_losses.first().cloned());
    let mut rows = Vec::new();
    for g in 0..groups.n_groups() {
        let mut row = vec![
            (g + 1).to_string(),
            groups.groups[g].len().to_string(),
            groups.sample_counts[g].to_string(),
            init.as_ref().and_then(|v| v[g]).map_or("—".into(), fmt_num),
        ];
        for t in tuned {
            row.push(
                t.trace
                    .as_ref()
                    .filter(|tr| tr.diverged_at.is_none())
                    .and_then(|tr| tr.group_losses.last())
                    .and_then(|v| v[g])
                    .map_or("—".into(), fmt_num),
            );
        }
        rows.push(row);
    }
    let h: Vec<&str> = headers.iter().map(String::as_str).collect();
    report.table(title, &h, rows)?;
    Ok(())
}

/// One line plot per method: the loss of each group against the step.
pub(super) fn group_curves(
    report: &mut Report,
    groups: &FrequencyGroups,
    tuned: &[Tuned],
    prefix: &str,
) -> Result<(), StudyError> {
    for t in tuned {
        let Some(trace) = &t.trace else { continue };
        let mut plot = LinePlot::new(
            format!("{prefix}groups_{}", t.method.key()),
            format!(
                "{}{}: per-group training loss (group 1 = most frequent classes, {} = rarest)",
                t.method.label(),
                if t.gated { "" } else { " (unscored)" },
                groups.n_groups()
            ),
            "step",
            "loss",
        )
        .integer_x();
        for g in 0..groups.n_groups() {
            let ys: Vec<f64> = trace.group_losses.iter().filter_map(|v| v[g]).collect();
            if ys.len() != trace.group_losses.len() || ys.is_empty() {
                continue;
            }
            plot = plot.with_series(Series::indexed(format!("group {}", g + 1), ys).color(g));
        }
        report.line_plot(plot)?;
    }
    Ok(())
}

/// Overall training loss of every method (log scale).
pub(super) fn overall_curves(
    report: &mut Report,
    tuned: &[Tuned],
    name: &str,
) -> Result<(), StudyError> {
    let mut plot = LinePlot::new(name, "Overall training loss", "step", "loss")
        .integer_x()
        .log_y();
    for (i, t) in tuned.iter().enumerate() {
        if let Some(trace) = &t.trace {
            if trace.losses.iter().all(|&l| l > 0.0) && !trace.losses.is_empty() {
                let mut s = Series::indexed(t.method.label(), trace.losses.clone()).color(i);
                if !t.gated {
                    s = s.dashed();
                }
                plot = plot.with_series(s);
            }
        }
    }
    report.line_plot(plot)?;
    Ok(())
}

/// The per-group losses every `every` steps, one table per gated method (the text form of
/// the per-group figure).
pub(super) fn group_curve_tables(
    report: &mut Report,
    groups: &FrequencyGroups,
    tuned: &[Tuned],
    every: usize,
) -> Result<(), StudyError> {
    for t in tuned.iter().filter(|t| t.gated) {
        let Some(trace) = &t.trace else { continue };
        let mut headers = vec!["step".to_string()];
        headers.extend((1..=groups.n_groups()).map(|g| format!("g{g}")));
        headers.push("overall".into());
        let rows = trace
            .group_losses
            .iter()
            .zip(&trace.losses)
            .enumerate()
            .filter(|(step, _)| step % every.max(1) == 0 || *step + 1 == trace.losses.len())
            .map(|(step, (gl, &l))| {
                let mut row = vec![step.to_string()];
                row.extend(
                    gl.iter()
                        .map(|v| v.map_or("—".into(), |x| format!("{x:.2}"))),
                );
                row.push(format!("{l:.3}"));
                row
            })
            .collect();
        let h: Vec<&str> = headers.iter().map(String::as_str).collect();
        report.table(
            &format!(
                "{}: per-group loss every {every} steps (g1 = most frequent, g{} = rarest)",
                t.method.label(),
                groups.n_groups()
            ),
            &h,
            rows,
        )?;
    }
    Ok(())
}
