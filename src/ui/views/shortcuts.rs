//! Input that is no widget's: keyboard shortcuts (one table used by the input handler, the menus
//! and the help window) and files dropped on the window.

use egui::{Key, KeyboardShortcut, Modifiers};

use crate::canvas::Tool;

use crate::ui::state::{Command, SaveKind};

use super::memory::ViewMemory;

pub const UNDO: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Z);
pub const REDO: KeyboardShortcut =
    KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::Z);
pub const REDO_Y: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Y);
pub const OPEN: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::O);
pub const SAVE: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::S);
pub const EXPORT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::E);
pub const EXPORT_GRID: KeyboardShortcut =
    KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::E);
pub const NEW_STYLE: KeyboardShortcut = KeyboardShortcut::new(Modifiers::NONE, Key::N);
pub const SMALLER: KeyboardShortcut = KeyboardShortcut::new(Modifiers::NONE, Key::OpenBracket);
pub const BIGGER: KeyboardShortcut = KeyboardShortcut::new(Modifiers::NONE, Key::CloseBracket);
pub const ZOOM_IN: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Plus);
pub const ZOOM_IN_EQ: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Equals);
pub const ZOOM_OUT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Minus);
pub const ZOOM_FIT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Num0);

const CLASS_KEYS: [Key; 9] = [
    Key::Num1,
    Key::Num2,
    Key::Num3,
    Key::Num4,
    Key::Num5,
    Key::Num6,
    Key::Num7,
    Key::Num8,
    Key::Num9,
];

pub fn tool_shortcut(tool: Tool) -> KeyboardShortcut {
    let key = match tool {
        Tool::Brush => Key::B,
        Tool::Eraser => Key::E,
        Tool::Fill => Key::F,
        Tool::Line => Key::L,
        Tool::Rect => Key::R,
        Tool::Eyedropper => Key::I,
    };
    KeyboardShortcut::new(Modifiers::NONE, key)
}

/// The key of a tool as shown on buttons.
pub fn tool_key(tool: Tool) -> &'static str {
    match tool {
        Tool::Brush => "B",
        Tool::Eraser => "E",
        Tool::Fill => "F",
        Tool::Line => "L",
        Tool::Rect => "R",
        Tool::Eyedropper => "I",
    }
}

/// A shortcut as text, in the platform's style ("Ctrl+Z", "⌘Z").
pub fn text(shortcut: &KeyboardShortcut) -> String {
    shortcut.format(&egui::ModifierNames::NAMES, cfg!(target_os = "macos"))
}

/// Shortcut and what it does, for the help window.
pub fn help_rows() -> Vec<(String, &'static str)> {
    let mut rows: Vec<(String, &'static str)> = Tool::ALL
        .iter()
        .map(|&t| (tool_key(t).to_string(), t.label()))
        .collect();
    rows.extend([
        ("[  /  ]".to_string(), "Smaller / bigger brush"),
        ("1 … 9".to_string(), "Select class 1 to 9 of the palette"),
        (text(&UNDO), "Undo"),
        (format!("{}  or  {}", text(&REDO), text(&REDO_Y)), "Redo"),
        (text(&OPEN), "Open layout"),
        (text(&SAVE), "Save layout (class ids)"),
        (text(&EXPORT), "Export image"),
        (text(&EXPORT_GRID), "Export comparison grid"),
        (
            "N".to_string(),
            "New style: back to noise, from a new seed unless locked",
        ),
        ("Wheel".to_string(), "Zoom the canvas around the pointer"),
        (text(&ZOOM_FIT), "Fit the canvas"),
        ("Middle drag / Space + drag".to_string(), "Pan the canvas"),
        ("Drop a PNG".to_string(), "Open it as the layout"),
        (
            "Drop a photo on the result".to_string(),
            "Use its style (Style from photo)",
        ),
        (
            "Drop a .scenebrush-style.json".to_string(),
            "Add it to the kept styles",
        ),
    ]);
    rows
}

/// Turns key presses into commands. Plain-key shortcuts are skipped while a text field has
/// keyboard focus, so typing a seed does not switch tools.
pub fn shortcuts_ui(ctx: &egui::Context, commands: &mut Vec<Command>) {
    if ctx.egui_wants_keyboard_input() {
        return;
    }
    ctx.input_mut(|i| {
        // Most specific first: Ctrl+Shift+Z before Ctrl+Z (shift is matched loosely).
        if i.consume_shortcut(&REDO) || i.consume_shortcut(&REDO_Y) {
            commands.push(Command::Redo);
        }
        if i.consume_shortcut(&UNDO) {
            commands.push(Command::Undo);
        }
        if i.consume_shortcut(&EXPORT_GRID) {
            commands.push(save(SaveKind::Grid));
        }
        if i.consume_shortcut(&EXPORT) {
            commands.push(save(SaveKind::Image));
        }
        if i.consume_shortcut(&SAVE) {
            commands.push(save(SaveKind::LayoutIds));
        }
        if i.consume_shortcut(&OPEN) {
            commands.push(Command::Open(None));
        }
        if i.consume_shortcut(&ZOOM_IN) || i.consume_shortcut(&ZOOM_IN_EQ) {
            commands.push(Command::ZoomBy(1.25));
        }
        if i.consume_shortcut(&ZOOM_OUT) {
            commands.push(Command::ZoomBy(0.8));
        }
        if i.consume_shortcut(&ZOOM_FIT) {
            commands.push(Command::ZoomFit);
        }
        // Plain keys only without modifiers (Ctrl+E is export, not the eraser).
        if i.modifiers.any() && !i.modifiers.shift_only() {
            return;
        }
        for tool in Tool::ALL {
            if i.consume_shortcut(&tool_shortcut(tool)) {
                commands.push(Command::SetTool(tool));
            }
        }
        if i.consume_shortcut(&SMALLER) {
            commands.push(Command::StepBrushSize(-1));
        }
        if i.consume_shortcut(&BIGGER) {
            commands.push(Command::StepBrushSize(1));
        }
        if i.consume_shortcut(&NEW_STYLE) {
            commands.push(Command::NewStyle);
        }
        for (index, key) in CLASS_KEYS.iter().enumerate() {
            if i.consume_key(Modifiers::NONE, *key) {
                commands.push(Command::SelectClass(index as u8));
            }
        }
    });
}

fn save(kind: SaveKind) -> Command {
    Command::Save {
        kind,
        path: None,
        overwrite: false,
    }
}

fn has_extension(path: &std::path::Path, extensions: &[&str]) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| extensions.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

/// The pointer is over the results (where a photo dropped gives the style).
fn over_results(ctx: &egui::Context, memory: &ViewMemory) -> bool {
    let pointer = ctx.input(|i| i.pointer.latest_pos());
    matches!((pointer, memory.results_rect), (Some(p), Some(r)) if r.contains(p))
}

/// A file dropped on the window: a style file to keep; a photo dropped on the results gives
/// the style; elsewhere a label map to open, or a photo to segment (a JPEG is a photo, never a
/// label map).
pub fn dropped_files_ui(ctx: &egui::Context, memory: &ViewMemory, commands: &mut Vec<Command>) {
    let dropped = ctx.input(|i| i.raw.dropped_files.clone());
    if let Some(file) = dropped.first() {
        let path = file.path().to_path_buf();
        let is_jpeg = has_extension(&path, &["jpg", "jpeg"]);
        commands.push(if has_extension(&path, &["json"]) {
            Command::ImportStyle(Some(path))
        } else if over_results(ctx, memory) && (is_jpeg || has_extension(&path, &["png"])) {
            Command::StyleFromPhoto(Some(path))
        } else if is_jpeg {
            Command::OpenPhoto(Some(path))
        } else {
            Command::Open(Some(path))
        });
    }
}

/// While files are dragged over the window: what dropping them does where the pointer is.
pub fn drop_hint_ui(ctx: &egui::Context, memory: &ViewMemory) {
    let hovering = ctx.input(|i| !i.raw.hovered_files.is_empty());
    let (Some(rect), true) = (memory.results_rect, hovering) else {
        return;
    };
    let over = over_results(ctx, memory);
    let painter = ctx.layer_painter(egui::LayerId::new(
        egui::Order::Foreground,
        egui::Id::unique("drop-hint"),
    ));
    let color = ctx.global_style().visuals.selection.stroke.color;
    let stroke = egui::Stroke::new(if over { 3.0 } else { 1.0 }, color);
    painter.rect_stroke(rect.shrink(2.0), 6.0, stroke, egui::StrokeKind::Inside);
    if over {
        painter.rect_filled(rect.shrink(2.0), 6.0, egui::Color32::from_black_alpha(120));
        painter.text(
            rect.center(),
            egui::Align2::CENTER_CENTER,
            "Drop a photo here to use its style",
            egui::FontId::proportional(16.0),
            egui::Color32::WHITE,
        );
    }
}
