//! The status bar: per visible model its execution provider (and why a requested one is not
//! used), its precision when it has an int8 variant, and last latency; the pointer's class; errors and confirmations.

use egui::{RichText, Ui};

use crate::models::GraphUsed;
use crate::ui::resources::{LoadState, Resources, latency_text};
use crate::ui::state::AppState;

use super::memory::CanvasMemory;
use super::train_tab::training_summary;

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

pub fn status_bar_ui(ui: &mut Ui, state: &AppState, res: &Resources, canvas: &CanvasMemory) {
    let rt = &res.models;
    ui.horizontal(|ui| {
        if let Some(error) = &res.messages.error {
            let text =
                RichText::new(format!("Error: {}", error.title)).color(ui.visuals().error_fg_color);
            // The details are in the error window until dismissed.
            ui.label(text).on_hover_text(&error.message);
            ui.separator();
        } else if let Some(notice) = res.messages.current_notice() {
            ui.label(RichText::new(notice).color(ui.visuals().hyperlink_color));
            ui.separator();
        }

        if let Err(reason) = &rt.runtime_info {
            ui.label(RichText::new("ONNX Runtime missing").color(ui.visuals().warn_fg_color))
                .on_hover_text(reason);
            ui.separator();
        }
        if let Some(text) = training_summary(&res.training) {
            ui.label(RichText::new(text).color(ui.visuals().hyperlink_color))
                .on_hover_text("The Train tab shows the run");
            ui.separator();
        }
        for id in state.visible_models() {
            let name = rt.model_name(&id);
            let Some(view) = rt.get(&id) else {
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
                LoadState::Loaded {
                    provider,
                    load_ms,
                    graph,
                } => {
                    let mut text = format!(
                        "{name}: {}",
                        provider_short(&provider.used, &provider.notes)
                    );
                    if let Some(precision) = rt.precision_label(&id) {
                        text.push_str(&format!(" · {precision}"));
                    }
                    if let Some(ms) = view.latency_ms() {
                        text.push_str(&format!(" · {}", latency_text(ms)));
                    }
                    let mut tip = format!(
                        "Runs {} on {} (session ready in {}).",
                        match graph {
                            GraphUsed::Int8 => "its int8 variant",
                            GraphUsed::Float | GraphUsed::FloatInstead { .. } =>
                                "model.onnx (float)",
                        },
                        provider.used,
                        latency_text(*load_ms)
                    );
                    for note in provider.notes.iter().chain(rt.int8_note(&id).as_ref()) {
                        tip.push('\n');
                        tip.push_str(note);
                    }
                    ui.label(text).on_hover_text(tip);
                }
            }
            ui.separator();
        }

        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let h = &res.doc.history;
            ui.label(RichText::new(format!(
                "{} undo step{} · {:.1} MiB",
                h.undo_len(),
                if h.undo_len() == 1 { "" } else { "s" },
                h.memory_bytes() as f64 / (1024.0 * 1024.0)
            )))
            .on_hover_text("Undo history (bounded memory: the oldest steps are dropped first)");
            if let Some((x, y)) = canvas.hover
                && x >= 0.0
                && y >= 0.0
                && let Some(id) = res.doc.labels.get(x as u32, y as u32)
            {
                ui.separator();
                ui.label(format!(
                    "{}, {} · {}",
                    x as u32,
                    y as u32,
                    res.doc.class_name(id)
                ));
            }
        });
    });
}
