//! The command line: `models`, `render`, `compare`, and bad input.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use common::{FIXTURES, fixture, fixtures_dir, repo_dir, runtime};
use predicates::prelude::*;
use scenebrush::canvas::LabelMap;
use scenebrush::io::{GridCell, grid_layout, save_label_color_png, save_label_ids_png};

fn scenebrush() -> Command {
    let mut cmd = Command::cargo_bin("scenebrush").expect("binary built");
    cmd.arg("--models-dir").arg(fixtures_dir());
    cmd.env_remove("SCENEBRUSH_MODELS");
    cmd
}

fn layout(name: &str) -> PathBuf {
    repo_dir()
        .join("assets/layouts")
        .join(format!("{name}.png"))
}

fn open(path: &Path) -> image::RgbaImage {
    image::open(path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()))
        .into_rgba8()
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn models_lists_fixtures_and_broken_packages() {
    runtime();
    let tmp = tempfile::tempdir().expect("tempdir");
    let broken = tmp.path().join("broken-one");
    std::fs::create_dir_all(&broken).expect("mkdir");
    std::fs::write(broken.join("model.json"), "{ not json").expect("write");
    let out = scenebrush()
        .arg("--models-dir")
        .arg(tmp.path())
        .arg("models")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8_lossy(&out);
    assert!(text.contains("ONNX Runtime 1."), "{text}");
    for line in ["ID", "KIND", "ARCH", "DISC", "SIZE", "PROVIDER", "STATUS"] {
        assert!(text.contains(line), "{text}");
    }
    for id in FIXTURES {
        let row = text
            .lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("{id} missing in\n{text}"));
        assert!(
            row.contains("generator") && row.contains("256x192"),
            "{row}"
        );
        assert!(row.contains("CPU") && row.ends_with("available"), "{row}");
    }
    let row = text
        .lines()
        .find(|l| l.starts_with("broken-one"))
        .unwrap_or_else(|| panic!("broken package missing in\n{text}"));
    assert!(
        row.contains("unavailable:") && row.contains("not valid JSON"),
        "{row}"
    );
}

#[test]
fn render_writes_an_image_of_the_model_size() {
    runtime();
    let tmp = tempfile::tempdir().expect("tempdir");
    for id in FIXTURES {
        let meta = fixture(id).meta;
        let out = tmp.path().join(format!("{id}.png"));
        scenebrush()
            .args(["render", "--model", id, "--seed", "3", "-o"])
            .arg(&out)
            .arg("--labels")
            .arg(layout("city_street"))
            .assert()
            .success()
            .stdout(predicate::str::contains("wrote").and(predicate::str::contains("seed 3")));
        let img = open(&out);
        assert_eq!(img.dimensions(), (meta.width, meta.height));
    }
    // JPEG by extension.
    let jpg = tmp.path().join("a.jpg");
    scenebrush()
        .args(["render", "--model", FIXTURES[0], "-o"])
        .arg(&jpg)
        .arg("--labels")
        .arg(layout("parking"))
        .assert()
        .success();
    let bytes = std::fs::read(&jpg).expect("read jpg");
    assert_eq!(&bytes[..3], [0xff, 0xd8, 0xff], "a JPEG file");
}

#[test]
fn seeds_colour_maps_and_bigger_maps() {
    runtime();
    let tmp = tempfile::tempdir().expect("tempdir");
    let id = FIXTURES[0];
    let meta = fixture(id).meta;
    let render = |labels: &Path, seed: &str, name: &str| {
        let out = tmp.path().join(name);
        scenebrush()
            .args(["render", "--model", id, "--seed", seed, "--labels"])
            .arg(labels)
            .arg("-o")
            .arg(&out)
            .assert()
            .success();
        open(&out)
    };
    let ids = layout("tree_avenue");
    let a = render(&ids, "11", "a.png");
    let b = render(&ids, "11", "b.png");
    assert_eq!(a, b, "same seed, same image");
    if meta.z_dim > 0 {
        assert_ne!(
            a,
            render(&ids, "12", "c.png"),
            "another seed, another image"
        );
    }
    // The same layout saved in class colours gives the same picture.
    let map = scenebrush::io::load_label_png(&ids, &meta.classes, meta.dontcare).expect("layout");
    let colour = tmp.path().join("colour.png");
    save_label_color_png(&colour, &map, &meta.palette(), false).expect("save colours");
    assert_eq!(render(&colour, "11", "d.png"), a);
    // 480x360 (CamVid's size, same 4:3 aspect) is scaled to the model.
    let big = tmp.path().join("big.png");
    save_label_ids_png(&big, &map.resized_nearest(480, 360), false).expect("save");
    assert_eq!(
        render(&big, "11", "e.png").dimensions(),
        (meta.width, meta.height)
    );
}

#[test]
fn compare_writes_a_grid_with_each_models_image() {
    runtime();
    let tmp = tempfile::tempdir().expect("tempdir");
    let grid_path = tmp.path().join("grid.png");
    scenebrush()
        .args([
            "compare",
            "--models",
            &FIXTURES.join(","),
            "--seed",
            "4",
            "--labels",
        ])
        .arg(layout("open_road"))
        .arg("-o")
        .arg(&grid_path)
        .assert()
        .success()
        .stdout(predicate::str::contains("wrote"));
    let grid = open(&grid_path);

    // Layout cell + one cell per model, each the model's size with 3 caption lines.
    let meta = fixture(FIXTURES[0]).meta;
    let cell = |lines: usize| GridCell {
        image: image::RgbaImage::new(meta.width, meta.height),
        caption: vec![String::new(); lines],
    };
    let layout_geom = grid_layout(&[cell(2), cell(3), cell(3)]);
    assert_eq!(grid.dimensions(), (layout_geom.width, layout_geom.height));

    // Each model's cell is exactly what `render` produces with the same seed.
    for (i, id) in FIXTURES.iter().enumerate() {
        let single = tmp.path().join(format!("{id}.png"));
        scenebrush()
            .args(["render", "--model", id, "--seed", "4", "--labels"])
            .arg(layout("open_road"))
            .arg("-o")
            .arg(&single)
            .assert()
            .success();
        let single = open(&single);
        let (x0, y0) = layout_geom.origins[i + 1];
        let crop = image::imageops::crop_imm(&grid, x0, y0, meta.width, meta.height).to_image();
        assert_eq!(crop, single, "cell of {id}");
    }
}

#[test]
fn bad_input_fails_with_a_clear_message_and_no_file() {
    runtime();
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out.png");
    let id = FIXTURES[0];
    let fail = |args: &[&str], labels: &Path, needles: &[&str]| {
        let assert = scenebrush()
            .args(args)
            .arg("--labels")
            .arg(labels)
            .arg("-o")
            .arg(&out)
            .assert()
            .failure();
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        for n in needles {
            assert!(stderr.contains(n), "{n:?} not in stderr: {stderr}");
        }
        assert!(!out.exists(), "no output after a failure ({stderr})");
        stderr
    };

    fail(
        &["render", "--model", id],
        &tmp.path().join("missing.png"),
        &["missing.png", "does not exist"],
    );
    let folder = tmp.path().join("layouts.png");
    std::fs::create_dir(&folder).expect("mkdir");
    fail(
        &["render", "--model", id],
        &folder,
        &[
            "layouts.png is a folder, not a file",
            "pick a file inside it",
        ],
    );
    std::fs::remove_dir(&folder).expect("rmdir");
    fail(
        &["render", "--model", "no-such-model"],
        &layout("city_street"),
        &[
            "unknown model \"no-such-model\"",
            "available:",
            FIXTURES[0],
            "scenebrush models",
        ],
    );

    let painted = tmp.path().join("painted.png");
    let mut img = image::RgbImage::from_pixel(256, 192, image::Rgb([128, 64, 128]));
    for x in 0..10 {
        img.put_pixel(x, 0, image::Rgb([255, 0, 0]));
    }
    img.save(&painted).expect("save");
    fail(
        &["render", "--model", id],
        &painted,
        &["painted.png", "#ff0000 (10 pixels)", "class colours"],
    );

    let ids = tmp.path().join("ids.png");
    let mut map = LabelMap::new(256, 192, 3);
    map.set(0, 0, 77);
    save_label_ids_png(&ids, &map, false).expect("save");
    fail(
        &["render", "--model", id],
        &ids,
        &["ids.png", "77 (1 pixel)"],
    );

    let square = tmp.path().join("square.png");
    save_label_ids_png(&square, &LabelMap::new(100, 100, 3), false).expect("save");
    fail(
        &["render", "--model", id],
        &square,
        &["square.png", "100x100", "crop"],
    );

    fail(
        &["compare", "--models", id],
        &layout("city_street"),
        &["at least two"],
    );
    fail(
        &["compare", "--models", &format!("{id},nope")],
        &layout("city_street"),
        &["unknown model \"nope\""],
    );

    // Existing output: refused without --force and left untouched; replaced with --force.
    std::fs::write(&out, b"keep me").expect("write");
    let assert = scenebrush()
        .args(["render", "--model", id, "--labels"])
        .arg(layout("city_street"))
        .arg("-o")
        .arg(&out)
        .assert()
        .failure();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("already exists") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&out).expect("read"), b"keep me");
    scenebrush()
        .args(["render", "--model", id, "--force", "--labels"])
        .arg(layout("city_street"))
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    assert_eq!(open(&out).dimensions(), (256, 192));

    let bmp = tmp.path().join("out.bmp");
    scenebrush()
        .args(["render", "--model", id, "--labels"])
        .arg(layout("city_street"))
        .arg("-o")
        .arg(&bmp)
        .assert()
        .failure()
        .stderr(predicate::str::contains(".png, .jpg or .jpeg"));

    // Nothing but the files written on purpose is left (no temporary files).
    assert_eq!(
        files_in(tmp.path()),
        ["ids.png", "out.png", "painted.png", "square.png"]
    );
}

#[test]
fn broken_package_and_missing_runtime_are_explained() {
    runtime();
    let tmp = tempfile::tempdir().expect("tempdir");
    let pkg = tmp.path().join("models/cut");
    common::copy_package(&fixture(FIXTURES[0]).dir, &pkg);
    let json = std::fs::read_to_string(pkg.join("model.json")).expect("read");
    let json = json.replacen(&format!("\"{}\"", FIXTURES[0]), "\"cut\"", 1);
    std::fs::write(pkg.join("model.json"), json).expect("write");
    std::fs::write(pkg.join("model.onnx"), b"garbage").expect("write");
    let out = tmp.path().join("out.png");
    Command::cargo_bin("scenebrush")
        .expect("binary")
        .arg("--models-dir")
        .arg(tmp.path().join("models"))
        .args(["render", "--model", "cut", "--labels"])
        .arg(layout("city_street"))
        .arg("-o")
        .arg(&out)
        .assert()
        .failure()
        .stderr(predicate::str::contains("cut/model.onnx"));
    assert!(!out.exists());

    // A wrong ORT_DYLIB_PATH is named, with what to do.
    scenebrush()
        .env("ORT_DYLIB_PATH", tmp.path().join("nope/libonnxruntime.so"))
        .args(["render", "--model", FIXTURES[0], "--labels"])
        .arg(layout("city_street"))
        .arg("-o")
        .arg(&out)
        .assert()
        .failure()
        .stderr(
            predicate::str::contains("ORT_DYLIB_PATH is set to")
                .and(predicate::str::contains("nope")),
        );
    assert!(!out.exists());
}

#[test]
fn default_folders_include_the_user_folder_and_the_environment() {
    runtime();
    let tmp = tempfile::tempdir().expect("tempdir");
    // The per-user folder on Linux is $XDG_DATA_HOME/scenebrush/models.
    let data_home = tmp.path().join("data");
    let user_pkg = data_home.join("scenebrush/models/user-copy");
    common::copy_package(&fixture(FIXTURES[0]).dir, &user_pkg);
    let json = std::fs::read_to_string(user_pkg.join("model.json")).expect("read");
    std::fs::write(
        user_pkg.join("model.json"),
        json.replacen(&format!("\"{}\"", FIXTURES[0]), "\"user-copy\"", 1),
    )
    .expect("write");
    let mut cmd = Command::cargo_bin("scenebrush").expect("binary");
    cmd.env("SCENEBRUSH_MODELS", fixtures_dir()).arg("models");
    if cfg!(target_os = "linux") {
        cmd.env("XDG_DATA_HOME", &data_home);
    }
    let out = cmd.assert().success().get_output().stdout.clone();
    let text = String::from_utf8_lossy(&out);
    for id in FIXTURES {
        assert!(
            text.lines()
                .any(|l| l.starts_with(id) && l.ends_with("available")),
            "{text}"
        );
    }
    if cfg!(target_os = "linux") {
        assert!(
            text.lines()
                .any(|l| l.starts_with("user-copy") && l.ends_with("available")),
            "{text}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Stopping `scenebrush train` from outside (fake trainer: tests/fixtures/trainer/fake_trainer.sh)

#[cfg(unix)]
mod stop_signals {
    use std::io::{BufRead, BufReader, Read};
    use std::os::unix::process::CommandExt;
    use std::path::Path;
    use std::process::{Child, Stdio};
    use std::sync::mpsc::{Receiver, channel};
    use std::time::{Duration, Instant};

    use nix::sys::signal::{SigHandler, Signal, kill, signal};
    use nix::unistd::Pid;

    use super::repo_dir;

    const TIMEOUT: Duration = Duration::from_secs(30);

    struct Run {
        child: Child,
        stdout: Receiver<String>,
        stderr: std::thread::JoinHandle<String>,
        seen: Vec<String>,
    }

    /// `scenebrush train` on the fake trainer in wait mode, writing to `out`.
    fn start(out: &Path, env: &[(&str, &str)]) -> Run {
        start_with(
            std::process::Command::new(env!("CARGO_BIN_EXE_scenebrush")),
            out,
            env,
        )
    }

    /// `cmd` runs scenebrush (directly, or through a program such as nohup).
    fn start_with(mut cmd: std::process::Command, out: &Path, env: &[(&str, &str)]) -> Run {
        // Ignored signals are inherited, and the test runner itself may run with SIGINT or
        // SIGHUP ignored (a background job, nohup): scenebrush would then rightly keep ignoring
        // them. Start it with the default dispositions, as a terminal does.
        // SAFETY: only sigaction calls between fork and exec, which are async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                for sig in [Signal::SIGINT, Signal::SIGHUP, Signal::SIGTERM] {
                    signal(sig, SigHandler::SigDfl).map_err(std::io::Error::from)?;
                }
                Ok(())
            });
        }
        cmd.env(
            "SCENEBRUSH_TRAINER",
            repo_dir().join("tests/fixtures/trainer/fake_trainer.sh"),
        )
        .env("FAKE_TRAINER_MODE", "wait")
        .args(["train", "--steps", "3", "--out"])
        .arg(out)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start scenebrush train");
        let (tx, stdout) = channel();
        let pipe = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut pipe = child.stderr.take().expect("stderr");
        let stderr = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = pipe.read_to_string(&mut s);
            s
        });
        Run {
            child,
            stdout,
            stderr,
            seen: Vec::new(),
        }
    }

    impl Run {
        fn wait_for_line(&mut self, needle: &str) {
            let end = Instant::now() + TIMEOUT;
            while !self.seen.iter().any(|l| l.contains(needle)) {
                let left = end.saturating_duration_since(Instant::now());
                match self.stdout.recv_timeout(left) {
                    Ok(line) => self.seen.push(line),
                    Err(_) => {
                        let _ = self.child.kill();
                        panic!("no {needle:?} on stdout; got {:?}", self.seen);
                    }
                }
            }
        }

        fn signal(&self, sig: Signal) {
            let pid = i32::try_from(self.child.id()).expect("pid");
            kill(Pid::from_raw(pid), sig).expect("signal scenebrush");
        }

        /// Exit code, stdout, stderr; fails if it takes longer than `TIMEOUT`.
        fn finish(mut self) -> (Option<i32>, String, String) {
            let end = Instant::now() + TIMEOUT;
            let status = loop {
                if let Some(s) = self.child.try_wait().expect("wait") {
                    break s;
                }
                if Instant::now() > end {
                    let _ = self.child.kill();
                    panic!("scenebrush train did not exit within {TIMEOUT:?}");
                }
                std::thread::sleep(Duration::from_millis(20));
            };
            self.seen.extend(self.stdout.try_iter());
            let stderr = self.stderr.join().expect("stderr reader");
            (status.code(), self.seen.join("\n"), stderr)
        }
    }

    fn wait_for_file(path: &Path) {
        let end = Instant::now() + TIMEOUT;
        while !path.exists() {
            assert!(Instant::now() < end, "{} never appeared", path.display());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn read(path: &Path) -> String {
        std::fs::read_to_string(path).unwrap_or_default()
    }

    /// The signal reaches the trainer once as a stop; its checkpoint is reported with the command
    /// that continues the run, and the exit status says the run was stopped.
    fn stops_with(sig: Signal, forwarded: &str, code: i32) {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("run");
        let mut run = start(&out, &[]);
        run.wait_for_line("training 3 steps");
        run.signal(sig);
        if sig == Signal::SIGHUP {
            // A closing terminal may hang up twice: still one graceful stop.
            run.signal(sig);
        }
        let (status, stdout, stderr) = run.finish();
        assert_eq!(
            status,
            Some(code),
            "{sig}\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
        assert_eq!(read(&out.join("fake-signal")), format!("{forwarded}\n"));
        assert!(out.join("checkpoint.pt").is_file());
        let checkpoint = format!(
            "training stopped by {sig}; checkpoint at step 1: {}",
            out.join("checkpoint.pt").display()
        );
        let resume = format!(
            "continue with: scenebrush train --out {} --resume",
            out.display()
        );
        for needle in [checkpoint, resume] {
            assert!(stderr.contains(&needle), "{needle:?} not in\n{stderr}");
        }
    }

    #[test]
    fn sigterm_to_the_wrapper_stops_the_trainer_with_a_checkpoint() {
        stops_with(Signal::SIGTERM, "SIGTERM", 143);
    }

    #[test]
    fn sigint_to_the_wrapper_alone_stops_the_trainer_with_a_checkpoint() {
        stops_with(Signal::SIGINT, "SIGINT", 130);
    }

    #[test]
    fn sighup_stops_the_trainer_once_with_a_checkpoint() {
        stops_with(Signal::SIGHUP, "SIGTERM", 129);
    }

    #[test]
    fn under_nohup_a_hang_up_is_still_ignored() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("run");
        // nohup execs scenebrush with SIGHUP ignored: the same process id.
        let mut nohup = std::process::Command::new("nohup");
        nohup.arg(env!("CARGO_BIN_EXE_scenebrush"));
        let mut run = start_with(nohup, &out, &[]);
        run.wait_for_line("training 3 steps");
        run.signal(Signal::SIGHUP);
        std::thread::sleep(Duration::from_millis(500));
        assert!(
            !out.join("fake-signal").exists(),
            "the hang-up was forwarded"
        );
        run.signal(Signal::SIGTERM);
        let (status, stdout, stderr) = run.finish();
        assert_eq!(status, Some(143), "stdout:\n{stdout}\nstderr:\n{stderr}");
        assert_eq!(read(&out.join("fake-signal")), "SIGTERM\n");
        assert!(!stderr.contains("SIGHUP"), "{stderr}");
    }

    #[test]
    fn a_stop_before_the_trainer_has_started_waits_for_it() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("run");
        // The fake sleeps 1 s before setting its handlers, as Python does while importing.
        let run = start(&out, &[("FAKE_START_DELAY", "1")]);
        wait_for_file(&out.join("fake-started"));
        run.signal(Signal::SIGTERM);
        let (status, stdout, stderr) = run.finish();
        assert_eq!(status, Some(143), "stdout:\n{stdout}\nstderr:\n{stderr}");
        assert_eq!(read(&out.join("fake-signal")), "SIGTERM\n", "{stderr}");
        assert!(out.join("checkpoint.pt").is_file());
        assert!(stderr.contains("as soon as it has started"), "{stderr}");
    }

    #[test]
    fn a_second_sigterm_ends_a_slow_stop_at_once() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("run");
        // The fake's "step" takes 60 s after the signal: the second one must not wait for it.
        let mut run = start(&out, &[("FAKE_STOP_DELAY", "60")]);
        run.wait_for_line("training 3 steps");
        let begin = Instant::now();
        run.signal(Signal::SIGTERM);
        wait_for_file(&out.join("fake-signal"));
        run.signal(Signal::SIGTERM);
        let (status, stdout, stderr) = run.finish();
        assert!(
            begin.elapsed() < Duration::from_secs(20),
            "{:?}",
            begin.elapsed()
        );
        assert_eq!(status, Some(143), "stdout:\n{stdout}\nstderr:\n{stderr}");
        assert_eq!(read(&out.join("fake-signal")), "SIGTERM\n");
        assert!(!out.join("checkpoint.pt").exists());
        assert!(
            stderr.contains("SIGTERM received again: ending the trainer now")
                && stderr.contains("ended at once by a second SIGTERM before its first checkpoint"),
            "{stderr}"
        );
    }
}

#[test]
fn model_folder_problems_are_named() {
    runtime();
    let tmp = tempfile::tempdir().expect("tempdir");
    let cli = || {
        let mut cmd = Command::cargo_bin("scenebrush").expect("binary");
        cmd.env_remove("SCENEBRUSH_MODELS");
        cmd
    };

    // A --models-dir that does not exist is said to be missing, and is an error.
    let nowhere = tmp.path().join("nowhere");
    let assert = cli()
        .arg("--models-dir")
        .arg(&nowhere)
        .arg("models")
        .assert()
        .code(1);
    let out = assert.get_output();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        stderr.contains(&format!(
            "error: model folder {} does not exist; check the path given to --models-dir",
            nowhere.display()
        )),
        "{stderr}"
    );
    assert!(
        stdout.contains(&format!("no model packages found in {}", nowhere.display())),
        "{stdout}"
    );

    // One package reached through two folders is listed once, not as a duplicate of itself.
    let spade = fixtures_dir().join(FIXTURES[0]);
    let out = cli()
        .arg("--models-dir")
        .arg(fixtures_dir())
        .arg("--models-dir")
        .arg(&spade)
        .arg("models")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8_lossy(&out);
    let rows: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with(FIXTURES[0]))
        .collect();
    assert_eq!(rows.len(), 1, "{text}");
    assert!(rows[0].ends_with("available"), "{text}");

    // An unknown id: the packages that cannot run are not offered as available.
    let models = tmp.path().join("models");
    common::copy_package(&spade, &models.join(FIXTURES[0]));
    let cut = models.join("cut");
    common::copy_package(&spade, &cut);
    let json = std::fs::read_to_string(cut.join("model.json")).expect("read");
    let json = json.replacen(&format!("\"{}\"", FIXTURES[0]), "\"cut\"", 1);
    std::fs::write(cut.join("model.json"), json).expect("write");
    std::fs::write(cut.join("model.onnx"), b"garbage").expect("write");
    let assert = cli()
        .arg("--models-dir")
        .arg(&models)
        .args(["render", "--model", "nope", "--labels"])
        .arg(layout("city_street"))
        .arg("-o")
        .arg(tmp.path().join("out.png"))
        .assert()
        .failure();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains(&format!(
            "unknown model \"nope\" in {} (available: {}; unavailable: cut)",
            models.display(),
            FIXTURES[0]
        )),
        "{stderr}"
    );
}
