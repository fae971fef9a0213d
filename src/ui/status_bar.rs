//! The status bar: per visible model its execution provider (and why a requested one is not
//! used) and last latency; the pointer's class; errors and confirmations.

use std::time::Duration;

use egui::{RichText, Ui};

use super::results::latency_text;
use super::runtime::{LoadState, Runtime};
use super::state::{AppState, View};

/// How long a confirmation stays in the status bar.
pub const NOTICE_DURATION: Duration = Duration::from_secs(6);

/// The models whose results are on screen.
pub fn visible_models(state: &AppState) -> Vec<String> {
    match state.view {
        View::Paint => state.active_model.iter().cloned().collect(),
        View::Compare => state.compare_models.clone(),
        View::Train => Vec::new(),
    }
}

/// "CPU", or "CPU (CUDA not used)" when a provider was passed over; the full notes go in the
/// tooltip.
fn provider_short(used: &str, notes: &[String]) -> String {
    let skipped: Vec<&str> = notes
        .iter()
        .filter_map(|n| n.split(':').next())
        .map(str::trim)
        .collect();
    if skipped.is_empty() {
        used.to_string()
    } else {
        format!("{used} ({})", skipped.join(", "))
    }
}

pub fn status_bar_ui(ui: &mut Ui, state: &AppState, rt: &Runtime) {
    ui.horizontal(|ui| {
        if let Some(error) = &rt.error {
            let text =
                RichText::new(format!("Error: {}", error.title)).color(ui.visuals().error_fg_color);
            // The details are in the error window until dismissed.
            ui.label(text).on_hover_text(&error.message);
            ui.separator();
        } else if let Some((notice, at)) = &rt.notice
            && at.elapsed() < NOTICE_DURATION
        {
            ui.label(RichText::new(notice).color(ui.visuals().hyperlink_color));
            ui.separator();
        }

        if let Err(reason) = &rt.runtime_info {
            ui.label(RichText::new("ONNX Runtime missing").color(ui.visuals().warn_fg_color))
                .on_hover_text(reason);
            ui.separator();
        }
        if let Some(text) = super::train::training_summary(&rt.training) {
            ui.label(RichText::new(text).color(ui.visuals().hyperlink_color))
                .on_hover_text("The Train tab shows the run");
            ui.separator();
        }
        for id in visible_models(state) {
            let name = rt.model_name(&id);
            let Some(view) = rt.models.get(&id) else {
                continue;
            };
            match &view.load {
                LoadState::Loading => {
                    ui.label(format!("{name}: loading…"));
                }
                LoadState::Failed(reason) => {
                    ui.label(
                        RichText::new(format!("{name}: unavailable"))
                            .color(ui.visuals().error_fg_color),
                    )
                    .on_hover_text(reason);
                }
                LoadState::Loaded { provider, load_ms } => {
                    let mut text = format!(
                        "{name}: {}",
                        provider_short(&provider.used, &provider.notes)
                    );
                    if let Some(ms) = view.latency_ms() {
                        text.push_str(&format!(" · {}", latency_text(ms)));
                    }
                    let mut tip = format!(
                        "Runs on {} (session ready in {}).",
                        provider.used,
                        latency_text(*load_ms)
                    );
                    for note in &provider.notes {
                        tip.push('\n');
                        tip.push_str(note);
                    }
                    ui.label(text).on_hover_text(tip);
                }
            }
            ui.separator();
        }

        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let h = &rt.doc.history;
            ui.label(RichText::new(format!(
                "{} undo step{} · {:.1} MiB",
                h.undo_len(),
                if h.undo_len() == 1 { "" } else { "s" },
                h.memory_bytes() as f64 / (1024.0 * 1024.0)
            )))
            .on_hover_text("Undo history (bounded memory: the oldest steps are dropped first)");
            if let Some((x, y)) = rt.canvas.hover
                && x >= 0.0
                && y >= 0.0
                && let Some(id) = rt.doc.labels.get(x as u32, y as u32)
            {
                ui.separator();
                ui.label(format!(
                    "{}, {} · {}",
                    x as u32,
                    y as u32,
                    rt.doc.class_name(id)
                ));
            }
        });
    });
}
