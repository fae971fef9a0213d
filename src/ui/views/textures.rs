//! Textures of what the resources hold: the label map (updated from the changed rectangle
//! only), the generators' images and the training sample. Brought up to date at the start of
//! each frame.

use egui::{Color32, TextureOptions};

use crate::canvas::{LabelMap, Palette};
use crate::style::Style;
use crate::ui::resources::{
    Document, EditSession, Models, PendingChanges, Resources, TrainingRuntime, vector_fingerprint,
};
use crate::ui::state::{AppState, StyleChoice};

use super::memory::{CanvasMemory, EditTextures, ResultTexture, SampleTexture, ViewMemory};

/// Colours of `map` inside `[x0, y0, x1, y1)` (exclusive ends).
fn color_image(map: &LabelMap, palette: &Palette, [x0, y0, x1, y1]: [u32; 4]) -> egui::ColorImage {
    let stride = map.width() as usize;
    let mut pixels = Vec::with_capacity(((x1 - x0) * (y1 - y0)) as usize);
    for y in y0..y1 {
        let row = &map.data()[y as usize * stride..(y as usize + 1) * stride];
        for &id in &row[x0 as usize..x1 as usize] {
            let [r, g, b] = palette.color(id);
            pixels.push(Color32::from_rgb(r, g, b));
        }
    }
    egui::ColorImage::new([(x1 - x0) as usize, (y1 - y0) as usize], pixels)
}

fn rgba_image(image: &image::RgbaImage) -> egui::ColorImage {
    egui::ColorImage::from_rgba_unmultiplied(
        [image.width() as usize, image.height() as usize],
        image.as_raw(),
    )
}

fn rgb_image(image: &image::RgbImage) -> egui::ColorImage {
    egui::ColorImage::from_rgb(
        [image.width() as usize, image.height() as usize],
        image.as_raw(),
    )
}

fn gray_image(image: &image::GrayImage) -> egui::ColorImage {
    egui::ColorImage::from_gray(
        [image.width() as usize, image.height() as usize],
        image.as_raw(),
    )
}

/// Brings every texture up to date; `changes` are the document's since the last frame.
pub fn sync_textures(
    ctx: &egui::Context,
    state: &AppState,
    res: &Resources,
    changes: PendingChanges,
    memory: &mut ViewMemory,
) {
    sync_canvas_texture(ctx, &res.doc, changes, &mut memory.canvas);
    sync_result_textures(ctx, &res.models, memory);
    sync_sample_texture(ctx, &res.training, memory);
    sync_style_textures(ctx, state, res, memory);
    sync_edit_textures(ctx, res.edit.as_ref(), memory);
}

/// The photo thumbnails of the chosen and the kept styles, and the kept styles' previews.
fn sync_style_textures(
    ctx: &egui::Context,
    state: &AppState,
    res: &Resources,
    memory: &mut ViewMemory,
) {
    let mut vectors: Vec<&crate::style::StyleVector> = res
        .styles
        .vectors
        .values()
        .filter_map(|v| v.as_ref().ok())
        .collect();
    let saved = state
        .saved_styles
        .iter()
        .chain(match &state.style {
            StyleChoice::Saved(s) => Some(s),
            _ => None,
        })
        .filter_map(|s| match &s.style {
            Style::Vector(v) => Some(v),
            Style::Seed(_) => None,
        });
    vectors.extend(saved);
    for v in vectors {
        let Some(thumbnail) = &v.thumbnail else {
            continue;
        };
        let fp = vector_fingerprint(v);
        memory.style_thumbnails.entry(fp).or_insert_with(|| {
            ctx.load_texture(
                format!("style-thumbnail-{fp}"),
                rgb_image(thumbnail),
                TextureOptions::LINEAR,
            )
        });
    }
    for (id, generator) in res.models.states() {
        for (fp, preview) in &generator.previews {
            let Some(image) = &preview.image else {
                continue;
            };
            let key = (id.clone(), *fp);
            match memory.style_previews.get_mut(&key) {
                Some(shown) if shown.revision == preview.revision => {}
                Some(shown) => {
                    shown.texture.set(rgba_image(image), TextureOptions::LINEAR);
                    shown.revision = preview.revision;
                }
                None => {
                    let texture = ctx.load_texture(
                        format!("style-preview-{id}-{fp}"),
                        rgba_image(image),
                        TextureOptions::LINEAR,
                    );
                    memory.style_previews.insert(
                        key,
                        ResultTexture {
                            texture,
                            revision: preview.revision,
                        },
                    );
                }
            }
        }
    }
}

/// The photo being edited: the photo as the model sees it, the edited photo and the mask.
fn sync_edit_textures(ctx: &egui::Context, edit: Option<&EditSession>, memory: &mut ViewMemory) {
    let Some(session) = edit else {
        memory.edit = None;
        return;
    };
    let options = TextureOptions::LINEAR;
    match &mut memory.edit {
        Some(shown) if shown.session == session.serial => {
            if shown.revision != session.revision {
                shown.edited.set(rgb_image(&session.edited), options);
                shown
                    .mask
                    .set(gray_image(&session.mask.to_image()), options);
                shown.revision = session.revision;
            }
        }
        _ => {
            memory.edit = Some(EditTextures {
                session: session.serial,
                revision: session.revision,
                original: ctx.load_texture(
                    "edit-original",
                    rgb_image(&session.edit.fitted),
                    options,
                ),
                edited: ctx.load_texture("edit-edited", rgb_image(&session.edited), options),
                mask: ctx.load_texture("edit-mask", gray_image(&session.mask.to_image()), options),
            });
        }
    }
}

/// The canvas texture: the changed rectangle only, or everything after undo, open or a model
/// switch.
fn sync_canvas_texture(
    ctx: &egui::Context,
    doc: &Document,
    changes: PendingChanges,
    canvas: &mut CanvasMemory,
) {
    let (w, h) = (doc.labels.width(), doc.labels.height());
    let size = [w as usize, h as usize];
    let options = TextureOptions::NEAREST;
    match &mut canvas.texture {
        Some(texture) if texture.size() == size && !changes.full_redraw => {
            if let Some(bounds) = changes.dirty.bounds() {
                let [x0, y0, x1, y1] = bounds;
                let bounds = [x0.min(w), y0.min(h), x1.min(w), y1.min(h)];
                if bounds[0] < bounds[2] && bounds[1] < bounds[3] {
                    let image = color_image(&doc.labels, &doc.palette, bounds);
                    texture.set_partial([bounds[0] as usize, bounds[1] as usize], image, options);
                }
            }
        }
        Some(texture) if texture.size() == size => {
            texture.set(
                color_image(&doc.labels, &doc.palette, [0, 0, w, h]),
                options,
            );
        }
        _ => {
            let image = color_image(&doc.labels, &doc.palette, [0, 0, w, h]);
            canvas.texture = Some(ctx.load_texture("canvas", image, options));
        }
    }
}

/// Each generator's latest image.
fn sync_result_textures(ctx: &egui::Context, models: &Models, memory: &mut ViewMemory) {
    let options = TextureOptions::LINEAR;
    for (id, generator) in models.states() {
        let Some(result) = &generator.result else {
            continue;
        };
        match memory.results.get_mut(id) {
            Some(shown) if shown.revision == result.revision => {}
            Some(shown) => {
                shown.texture.set(rgba_image(&result.image), options);
                shown.revision = result.revision;
            }
            None => {
                let texture =
                    ctx.load_texture(format!("result-{id}"), rgba_image(&result.image), options);
                memory.results.insert(
                    id.clone(),
                    ResultTexture {
                        texture,
                        revision: result.revision,
                    },
                );
            }
        }
    }
}

/// The sample grid of the run on screen.
fn sync_sample_texture(ctx: &egui::Context, training: &TrainingRuntime, memory: &mut ViewMemory) {
    let Some(sample) = training.run.as_ref().and_then(|r| r.sample.as_ref()) else {
        memory.sample = None;
        return;
    };
    let shown = memory
        .sample
        .as_ref()
        .is_some_and(|s| s.step == sample.step && s.path == sample.path);
    if !shown {
        let texture = ctx.load_texture(
            "training-sample",
            rgba_image(&sample.image),
            TextureOptions::LINEAR,
        );
        memory.sample = Some(SampleTexture {
            texture,
            path: sample.path.clone(),
            step: sample.step,
        });
    }
}
