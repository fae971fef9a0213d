//! Textures of what the resources hold: the label map (updated from the changed rectangle
//! only), the generators' images and the training sample. Brought up to date at the start of
//! each frame.

use egui::{Color32, TextureOptions};

use crate::canvas::{LabelMap, Palette};
use crate::ui::resources::{Document, Models, PendingChanges, TrainingRuntime};

use super::memory::{CanvasMemory, ResultTexture, SampleTexture, ViewMemory};

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

/// Brings every texture up to date; `changes` are the document's since the last frame.
pub fn sync_textures(
    ctx: &egui::Context,
    doc: &Document,
    changes: PendingChanges,
    models: &Models,
    training: &TrainingRuntime,
    memory: &mut ViewMemory,
) {
    sync_canvas_texture(ctx, doc, changes, &mut memory.canvas);
    sync_result_textures(ctx, models, memory);
    sync_sample_texture(ctx, training, memory);
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
