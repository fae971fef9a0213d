//! Fuzzing the label-map import (the one decoder behind File > Open, drag and drop, the CLI and
//! session restore) with proptest: random bytes and mutated valid PNGs (bit flips, truncation,
//! changed header dimensions, swapped, dropped and spliced chunks, with and without repaired
//! CRCs). Each input must give a label map or a clean error naming the file: never a panic, and
//! never an allocation beyond the size limit.
//!
//! `cargo test` runs 256 cases (a few seconds). A longer run on demand:
//!
//!     PROPTEST_CASES=100000 cargo test --release --locked --test label_fuzz
//!
//! A failure prints the shrunk input and is kept in tests/label_fuzz.proptest-regressions,
//! which is replayed first on the next run.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::Path;
use std::sync::OnceLock;

use proptest::prelude::*;
use scenebrush::io::{IoError, MAX_DECODED_BYTES, MAX_LABEL_PIXELS, load_label_png};
use scenebrush::models::ClassInfo;

/// Records the largest single allocation of each thread, so a test can bound what one decode
/// asks for (the tests of this file run on several threads).
struct Tracking;

thread_local! {
    static BIGGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    let _ = BIGGEST.try_with(|b| b.set(b.get().max(size)));
}

// SAFETY: every call is forwarded unchanged to the system allocator; `note` only touches a
// const-initialised thread-local cell, which does not allocate.
unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Tracking = Tracking;

/// The largest single allocation while `f` runs on this thread.
fn biggest_allocation<T>(f: impl FnOnce() -> T) -> (T, usize) {
    BIGGEST.with(|b| b.set(0));
    let out = f();
    (out, BIGGEST.with(Cell::get))
}

/// What one decode may ask for at once: the decoded image (at most [`MAX_DECODED_BYTES`])
/// plus the png decoder's own buffers (16 MiB).
const ALLOCATION_BOUND: usize = MAX_DECODED_BYTES as usize + (16 << 20);

fn classes() -> Vec<ClassInfo> {
    [
        [128, 128, 128],
        [128, 0, 0],
        [192, 192, 128],
        [128, 64, 128],
        [60, 40, 222],
        [128, 128, 0],
        [0, 0, 0],
    ]
    .iter()
    .enumerate()
    .map(|(id, &color)| ClassInfo {
        id: id as u8,
        name: format!("class{id}"),
        color,
    })
    .collect()
}

const DONTCARE: Option<u8> = Some(6);

fn encode(
    (w, h): (u32, u32),
    color: png::ColorType,
    depth: png::BitDepth,
    palette: Option<(Vec<u8>, Option<Vec<u8>>)>,
    data: &[u8],
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(color);
    enc.set_depth(depth);
    if let Some((plte, trns)) = palette {
        enc.set_palette(plte);
        if let Some(t) = trns {
            enc.set_trns(t);
        }
    }
    let mut writer = enc.write_header().expect("header");
    writer.write_image_data(data).expect("data");
    writer.finish().expect("finish");
    out
}

/// Valid label maps of every format the decoder reads (and one it refuses), 12x8 pixels.
fn seeds() -> &'static [Vec<u8>] {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        use png::BitDepth::*;
        use png::ColorType::*;
        let (w, h) = (12u32, 8u32);
        let px = (w * h) as usize;
        let ids: Vec<u8> = (0..px).map(|i| (i * 7 % 6) as u8).collect();
        let pack = |bits: usize| -> Vec<u8> {
            ids.chunks(w as usize)
                .flat_map(|row| {
                    let mut bytes = vec![0u8; (w as usize * bits).div_ceil(8)];
                    for (x, &v) in row.iter().enumerate() {
                        let bit = x * bits;
                        bytes[bit / 8] |= (v & ((1 << bits) - 1) as u8) << (8 - bits - bit % 8);
                    }
                    bytes
                })
                .collect()
        };
        let colours: Vec<u8> = classes().iter().flat_map(|c| c.color).collect();
        let rgb: Vec<u8> = ids
            .iter()
            .flat_map(|&i| classes()[i as usize].color)
            .collect();
        let rgba: Vec<u8> = rgb
            .chunks(3)
            .enumerate()
            .flat_map(|(i, c)| [c[0], c[1], c[2], if i % 5 == 0 { 0 } else { 255 }])
            .collect();
        vec![
            encode((w, h), Grayscale, Eight, None, &pack(8)),
            encode((w, h), Grayscale, Four, None, &pack(4)),
            encode((w, h), Grayscale, Two, None, &pack(2)),
            encode((w, h), Grayscale, One, None, &pack(1)),
            encode(
                (w, h),
                Indexed,
                Eight,
                Some((colours.clone(), Some(vec![255, 255, 0]))),
                &pack(8),
            ),
            encode(
                (w, h),
                Indexed,
                Two,
                Some((colours[..12].to_vec(), None)),
                &pack(2),
            ),
            encode(
                (w, h),
                Indexed,
                One,
                Some((vec![1, 2, 3, 4, 5, 6], None)),
                &pack(1),
            ),
            encode((w, h), Rgb, Eight, None, &rgb),
            encode((w, h), Rgba, Eight, None, &rgba),
            encode((w, h), Grayscale, Sixteen, None, &[0; 12 * 8 * 2]),
        ]
    })
}

/// Byte ranges of the chunks (length, type, data, CRC) as far as they parse.
fn chunks(png: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut at = 8;
    while let Some(len) = png.get(at..at + 4) {
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
        let end = at.saturating_add(12).saturating_add(len);
        if end > png.len() {
            break;
        }
        out.push(at..end);
        at = end;
    }
    out
}

/// Recomputes every chunk's CRC, so a mutation reaches the parser behind the CRC check.
fn fix_crcs(png: &mut [u8]) {
    for r in chunks(png) {
        let crc = common::crc32(&png[r.start + 4..r.end - 4]);
        png[r.end - 4..r.end].copy_from_slice(&crc.to_be_bytes());
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    FlipBit {
        at: usize,
        bit: u8,
    },
    Truncate {
        keep: usize,
    },
    /// New width and height in IHDR.
    Dims {
        w: u32,
        h: u32,
    },
    SwapChunks {
        a: usize,
        b: usize,
    },
    DropChunk {
        i: usize,
    },
    Splice {
        at: usize,
        bytes: Vec<u8>,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let dims = prop_oneof![
        (1u32..64, 1u32..64),
        (1u32..=20_000, 1u32..=20_000),
        (any::<u32>(), 1u32..4),
        (any::<u32>(), any::<u32>()),
    ];
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit { at, bit }),
        any::<usize>().prop_map(|keep| Mutation::Truncate { keep }),
        dims.prop_map(|(w, h)| Mutation::Dims { w, h }),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapChunks { a, b }),
        any::<usize>().prop_map(|i| Mutation::DropChunk { i }),
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 1..16)
        )
            .prop_map(|(at, bytes)| Mutation::Splice { at, bytes }),
    ]
}

fn apply(png: &mut Vec<u8>, m: &Mutation) {
    let len = png.len().max(1);
    match m {
        Mutation::FlipBit { at, bit } => {
            if let Some(b) = png.get_mut(at % len) {
                *b ^= 1 << bit;
            }
        }
        Mutation::Truncate { keep } => png.truncate(keep % len),
        Mutation::Dims { w, h } => {
            if png.len() >= 24 {
                png[16..20].copy_from_slice(&w.to_be_bytes());
                png[20..24].copy_from_slice(&h.to_be_bytes());
            }
        }
        Mutation::SwapChunks { a, b } => {
            let c = chunks(png);
            if c.len() >= 2 {
                let (a, b) = (c[a % c.len()].clone(), c[b % c.len()].clone());
                let (first, second) = if a.start <= b.start { (a, b) } else { (b, a) };
                if first != second {
                    let mut out = png[..first.start].to_vec();
                    out.extend_from_slice(&png[second.clone()]);
                    out.extend_from_slice(&png[first.end..second.start]);
                    out.extend_from_slice(&png[first]);
                    out.extend_from_slice(&png[second.end..]);
                    *png = out;
                }
            }
        }
        Mutation::DropChunk { i } => {
            let c = chunks(png);
            if !c.is_empty() {
                png.drain(c[i % c.len()].clone());
            }
        }
        Mutation::Splice { at, bytes } => {
            let at = at % (png.len() + 1);
            png.splice(at..at, bytes.iter().copied());
        }
    }
}

/// Decodes `bytes` from a file and checks the outcome: a valid map or an error naming the file,
/// within the allocation bound.
fn check(dir: &Path, bytes: &[u8]) -> Result<(), TestCaseError> {
    let path = dir.join("case.png");
    std::fs::write(&path, bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let classes = classes();
    let (result, biggest) = biggest_allocation(|| load_label_png(&path, &classes, DONTCARE));
    prop_assert!(
        biggest <= ALLOCATION_BOUND,
        "one allocation of {biggest} bytes"
    );
    match result {
        Ok(map) => {
            prop_assert!(u64::from(map.width()) * u64::from(map.height()) <= MAX_LABEL_PIXELS);
            prop_assert!(map.data().iter().all(|&id| (id as usize) < classes.len()));
        }
        Err(e) => {
            let message = e.to_string();
            prop_assert!(message.contains("case.png"), "{message}");
        }
    }
    Ok(())
}

#[test]
fn the_seeds_are_valid_label_maps() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("seed.png");
    let seeds = seeds();
    for (i, seed) in seeds.iter().enumerate() {
        std::fs::write(&path, seed).expect("write");
        let result = load_label_png(&path, &classes(), DONTCARE);
        if i + 1 == seeds.len() {
            assert!(
                matches!(result, Err(IoError::UnsupportedLabelFormat { .. })),
                "16-bit: {result:?}"
            );
        } else {
            let map = result.unwrap_or_else(|e| panic!("seed {i}: {e}"));
            assert_eq!((map.width(), map.height()), (12, 8), "seed {i}");
        }
    }
}

#[test]
fn a_tiny_file_declaring_gigapixels_allocates_nothing_big() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (w, h) in [(60_000, 60_000), (u32::MAX, u32::MAX), (16_384, 8_193)] {
        let mut png = seeds()[8].clone(); // RGBA: 4 bytes a pixel
        apply(&mut png, &Mutation::Dims { w, h });
        fix_crcs(&mut png);
        let path = dir.path().join("huge.png");
        std::fs::write(&path, &png).expect("write");
        let start = std::time::Instant::now();
        let (result, biggest) = biggest_allocation(|| load_label_png(&path, &classes(), DONTCARE));
        let elapsed = start.elapsed();
        let err = result.expect_err("refused");
        assert!(matches!(err, IoError::TooLarge { .. }), "{w}x{h}: {err}");
        assert!(err.to_string().contains(&format!("{w}x{h}")), "{err}");
        assert!(
            biggest < 1 << 20,
            "{w}x{h}: one allocation of {biggest} bytes"
        );
        assert!(elapsed.as_millis() < 500, "{w}x{h}: {elapsed:?}");
    }
}

proptest! {
    // PROPTEST_CASES overrides the number of cases (256 by default).
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn random_bytes_never_panic(
        signature in any::<bool>(),
        tail in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut bytes = if signature { b"\x89PNG\r\n\x1a\n".to_vec() } else { Vec::new() };
        bytes.extend(tail);
        check(dir.path(), &bytes)?;
    }

    #[test]
    fn mutated_label_maps_never_panic(
        seed in 0..seeds().len(),
        mutations in proptest::collection::vec(mutation(), 1..4),
        repair_crcs in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut png = seeds()[seed].clone();
        for m in &mutations {
            apply(&mut png, m);
        }
        if repair_crcs {
            fix_crcs(&mut png);
        }
        check(dir.path(), &png)?;
    }
}
