//! The photo being edited, above its picture in the results panel: what is shown (original,
//! edited, mask), how much of the photo is repainted, exports, and "Stop editing".

use egui::{Button, RichText, Ui};

use crate::edit::DILATE_PX;
use crate::ui::resources::Resources;
use crate::ui::state::{AppState, Command, EditView, SaveKind};

/// Label of the export at the model's size.
pub const EXPORT_EDITED: &str = "Export edited photo…";
/// Label of the export at the photo's own size.
pub const EXPORT_FULL_SIZE: &str = "Export at photo size…";
/// Label of the button that leaves editing.
pub const STOP_EDITING: &str = "Stop editing";

pub fn edit_bar_ui(ui: &mut Ui, state: &AppState, res: &Resources, commands: &mut Vec<Command>) {
    let Some(session) = &res.edit else {
        return;
    };
    ui.horizontal(|ui| {
        ui.label(RichText::new("EDITING").small().strong().weak());
        ui.label(RichText::new(session.photo_name()).strong())
            .on_hover_text(session.photo_path.display().to_string());
    });
    ui.horizontal(|ui| {
        for view in EditView::ALL {
            let tip = match view {
                EditView::Original => "The photo as the model sees it",
                EditView::Edited => {
                    "The photo with the generated image blended in where you changed the layout"
                }
                EditView::Mask => {
                    "Where the generated image is blended in: white only it, black the photo's \
                     own pixels"
                }
            };
            if ui
                .add(Button::selectable(state.edit_view == view, view.label()))
                .on_hover_text(tip)
                .clicked()
            {
                commands.push(Command::SetEditView(view));
            }
        }
    });
    let mask = &session.mask;
    let total = (mask.width() as f64 * mask.height() as f64).max(1.0);
    let text = if mask.is_empty() {
        "The layout is the photo's own: this is the photo. Repaint part of it.".to_string()
    } else {
        format!(
            "{} pixels repainted; {:.1}% of the photo is blended (changed pixels and {DILATE_PX} \
             px around them), the rest is the photo's own",
            mask.changed_pixels(),
            mask.covered_pixels() as f64 / total * 100.0
        )
    };
    ui.label(RichText::new(text).weak().small());
    ui.horizontal(|ui| {
        let ready = res.edit_not_exportable();
        let export = |ui: &mut Ui, label: &str, tip: String, kind: SaveKind| {
            let response = ui
                .add_enabled(ready.is_none(), Button::new(label))
                .on_hover_text(tip);
            let response = match ready {
                Some(why) => response.on_disabled_hover_text(why),
                None => response,
            };
            if response.clicked() {
                Some(Command::Save {
                    kind,
                    path: None,
                    overwrite: false,
                })
            } else {
                None
            }
        };
        let (pw, ph) = session.edit.photo.dimensions();
        commands.extend(export(
            ui,
            EXPORT_EDITED,
            format!(
                "Save the edited photo at the model's size ({}x{})",
                mask.width(),
                mask.height()
            ),
            SaveKind::EditedPhoto,
        ));
        commands.extend(export(
            ui,
            EXPORT_FULL_SIZE,
            format!(
                "Save the edited photo at its own size ({pw}x{ph}): the generated part is \
                 upscaled inside the mask only, every other pixel is the photo's"
            ),
            SaveKind::EditedPhotoFullSize,
        ));
        if ui
            .button(STOP_EDITING)
            .on_hover_text("Leave photo editing; the layout stays in the canvas")
            .clicked()
        {
            commands.push(Command::StopEditing);
        }
    });
}
