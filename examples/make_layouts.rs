//! Draws the example street-scene layouts in assets/layouts/ with the canvas tools.
//! Class ids are CamVid's (`scenebrush::models::camvid`, the class table app and trainer share).
//! Run: `cargo run --example make_layouts`.

use std::path::PathBuf;

use scenebrush::canvas::{LabelMap, draw_line, fill_polygon, fill_rect, paint_disc};
use scenebrush::io::{save_label_color_png, save_label_ids_png};

const SKY: u8 = 0;
const BUILDING: u8 = 1;
const POLE: u8 = 2;
const ROAD: u8 = 3;
const PAVEMENT: u8 = 4;
const TREE: u8 = 5;
const SIGN: u8 = 6;
const FENCE: u8 = 7;
const CAR: u8 = 8;
const PEDESTRIAN: u8 = 9;
const BICYCLIST: u8 = 10;

const W: f32 = 256.0;
const H: f32 = 192.0;

/// A street in one-point perspective: road and pavements converge to (vx, horizon).
fn street(map: &mut LabelMap, vx: f32, horizon: f32, road_half: f32, pave: f32) {
    fill_polygon(
        map,
        &[
            (vx - 2.0, horizon),
            (vx + 2.0, horizon),
            (vx + road_half, H),
            (vx - road_half, H),
        ],
        ROAD,
    );
    fill_polygon(
        map,
        &[
            (vx - 2.0, horizon),
            (vx - road_half, H),
            (vx - road_half - pave, H),
            (vx - 4.0, horizon),
        ],
        PAVEMENT,
    );
    fill_polygon(
        map,
        &[
            (vx + 2.0, horizon),
            (vx + road_half, H),
            (vx + road_half + pave, H),
            (vx + 4.0, horizon),
        ],
        PAVEMENT,
    );
}

/// A car seen from behind at distance `s` (1 = near).
fn car(map: &mut LabelMap, cx: f32, bottom: f32, s: f32) {
    let (w, h) = (34.0 * s, 20.0 * s);
    fill_rect(
        map,
        (cx - w / 2.0, bottom - h * 0.6),
        (cx + w / 2.0, bottom),
        CAR,
    );
    fill_rect(
        map,
        (cx - w * 0.35, bottom - h),
        (cx + w * 0.35, bottom - h * 0.5),
        CAR,
    );
}

fn tree(map: &mut LabelMap, x: f32, ground: f32, s: f32) {
    draw_line(map, (x, ground), (x, ground - 20.0 * s), 1.5 * s, TREE);
    for (dx, dy, r) in [
        (0.0, -32.0, 13.0),
        (-9.0, -24.0, 9.0),
        (9.0, -25.0, 10.0),
        (0.0, -44.0, 9.0),
    ] {
        paint_disc(map, x + dx * s, ground + dy * s, r * s, TREE);
    }
}

fn pole_with_sign(map: &mut LabelMap, x: f32, ground: f32, s: f32) {
    draw_line(map, (x, ground), (x, ground - 60.0 * s), 1.0 * s, POLE);
    fill_rect(
        map,
        (x - 6.0 * s, ground - 62.0 * s),
        (x + 6.0 * s, ground - 52.0 * s),
        SIGN,
    );
}

fn person(map: &mut LabelMap, x: f32, ground: f32, s: f32, class: u8) {
    paint_disc(map, x, ground - 26.0 * s, 3.0 * s, class);
    fill_rect(
        map,
        (x - 3.0 * s, ground - 23.0 * s),
        (x + 3.0 * s, ground - 10.0 * s),
        class,
    );
    draw_line(
        map,
        (x - 1.5 * s, ground - 10.0 * s),
        (x - 2.0 * s, ground),
        1.2 * s,
        class,
    );
    draw_line(
        map,
        (x + 1.5 * s, ground - 10.0 * s),
        (x + 2.0 * s, ground),
        1.2 * s,
        class,
    );
}

fn cyclist(map: &mut LabelMap, x: f32, ground: f32, s: f32) {
    paint_disc(map, x - 7.0 * s, ground - 5.0 * s, 5.0 * s, BICYCLIST);
    paint_disc(map, x + 7.0 * s, ground - 5.0 * s, 5.0 * s, BICYCLIST);
    person(map, x, ground - 8.0 * s, 0.8 * s, BICYCLIST);
}

fn city_street() -> LabelMap {
    let mut m = LabelMap::new(W as u32, H as u32, SKY);
    let horizon = 88.0;
    // Facades on both sides, stepping down towards the vanishing point.
    fill_polygon(
        &mut m,
        &[
            (0.0, 0.0),
            (100.0, 50.0),
            (100.0, horizon + 4.0),
            (0.0, 150.0),
        ],
        BUILDING,
    );
    fill_polygon(
        &mut m,
        &[
            (256.0, 10.0),
            (150.0, 55.0),
            (150.0, horizon + 4.0),
            (256.0, 150.0),
        ],
        BUILDING,
    );
    fill_rect(&mut m, (100.0, 62.0), (150.0, horizon + 2.0), BUILDING);
    street(&mut m, 126.0, horizon, 150.0, 70.0);
    car(&mut m, 92.0, 150.0, 1.3);
    car(&mut m, 150.0, 112.0, 0.6);
    car(&mut m, 118.0, 100.0, 0.35);
    pole_with_sign(&mut m, 214.0, 160.0, 1.2);
    person(&mut m, 30.0, 176.0, 1.3, PEDESTRIAN);
    tree(&mut m, 240.0, 150.0, 1.0);
    m
}

fn tree_avenue() -> LabelMap {
    let mut m = LabelMap::new(W as u32, H as u32, SKY);
    let horizon = 96.0;
    fill_rect(&mut m, (0.0, 60.0), (256.0, horizon + 2.0), BUILDING);
    street(&mut m, 128.0, horizon, 120.0, 80.0);
    // Rows of trees shrinking with distance.
    for (i, s) in [1.6f32, 1.2, 0.9, 0.65, 0.45].iter().enumerate() {
        let off = 118.0 * s / 1.6 + 8.0;
        let ground = horizon + 60.0 * s / 1.6 + 10.0 - i as f32;
        tree(&mut m, 128.0 - off, ground, *s);
        tree(&mut m, 128.0 + off, ground, *s);
    }
    car(&mut m, 150.0, 140.0, 1.0);
    cyclist(&mut m, 96.0, 150.0, 1.1);
    m
}

fn open_road() -> LabelMap {
    let mut m = LabelMap::new(W as u32, H as u32, SKY);
    let horizon = 110.0;
    fill_rect(&mut m, (0.0, horizon - 6.0), (256.0, horizon + 2.0), TREE);
    for x in [20.0, 60.0, 200.0, 236.0] {
        tree(&mut m, x, horizon + 4.0, 1.1);
    }
    fill_rect(
        &mut m,
        (150.0, horizon - 22.0),
        (205.0, horizon + 2.0),
        BUILDING,
    );
    street(&mut m, 110.0, horizon, 110.0, 40.0);
    // A fence along the right pavement.
    fill_polygon(
        &mut m,
        &[
            (116.0, horizon),
            (256.0, 150.0),
            (256.0, 170.0),
            (116.0, horizon + 2.0),
        ],
        FENCE,
    );
    for i in 0..8 {
        let t = i as f32 / 8.0;
        let x = 116.0 + t * 140.0;
        let y = horizon + t * 50.0;
        draw_line(
            &mut m,
            (x, y - 4.0 - 10.0 * t),
            (x, y + 2.0 + 20.0 * t),
            0.8,
            POLE,
        );
    }
    car(&mut m, 70.0, 165.0, 1.4);
    cyclist(&mut m, 130.0, 150.0, 1.0);
    pole_with_sign(&mut m, 30.0, 172.0, 1.0);
    m
}

fn parking() -> LabelMap {
    let mut m = LabelMap::new(W as u32, H as u32, SKY);
    fill_rect(&mut m, (0.0, 30.0), (256.0, 100.0), BUILDING);
    fill_rect(&mut m, (0.0, 100.0), (256.0, 120.0), PAVEMENT);
    fill_rect(&mut m, (0.0, 120.0), (256.0, 192.0), ROAD);
    for (i, x) in [20.0f32, 62.0, 104.0, 146.0, 188.0, 230.0]
        .iter()
        .enumerate()
    {
        if i != 3 {
            car(&mut m, *x, 134.0, 1.15);
        }
        car(&mut m, *x + 10.0, 190.0, 1.25);
    }
    for x in [45.0, 170.0] {
        tree(&mut m, x, 104.0, 0.9);
    }
    person(&mut m, 150.0, 118.0, 1.0, PEDESTRIAN);
    pole_with_sign(&mut m, 246.0, 112.0, 1.0);
    m
}

fn main() -> anyhow::Result<()> {
    let out = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/layouts"));
    std::fs::create_dir_all(&out)?;
    let preview = std::env::var_os("PREVIEW").is_some();
    let camvid = scenebrush::models::camvid();
    // The ids below are CamVid's: check them against the class table the app and trainer share.
    for (id, name) in [
        (SKY, "Sky"),
        (BUILDING, "Building"),
        (POLE, "Pole"),
        (ROAD, "Road"),
        (PAVEMENT, "Pavement"),
        (TREE, "Tree"),
        (SIGN, "SignSymbol"),
        (FENCE, "Fence"),
        (CAR, "Car"),
        (PEDESTRIAN, "Pedestrian"),
        (BICYCLIST, "Bicyclist"),
    ] {
        anyhow::ensure!(
            camvid.id_named(name) == Some(id),
            "class {name} is not id {id} in the CamVid class table"
        );
    }
    let palette = scenebrush::canvas::Palette {
        colors: camvid.classes.iter().map(|c| c.color).collect(),
    };
    for (name, map) in [
        ("city_street", city_street()),
        ("tree_avenue", tree_avenue()),
        ("open_road", open_road()),
        ("parking", parking()),
    ] {
        let path = out.join(format!("{name}.png"));
        save_label_ids_png(&path, &map, true)?;
        if preview {
            save_label_color_png(&out.join(format!("{name}.color.png")), &map, &palette, true)?;
        }
        println!("wrote {}", path.display());
    }
    Ok(())
}
