//! Training mode and "open photo as layout": the Train tab driven through egui_kittest against a
//! fake trainer that replays recorded events (tests/fixtures/trainer/fake_trainer.sh), one real
//! fine-tuning run through the bundled PyTorch trainer, `scenebrush train` and `scenebrush
//! segment`, and the segmenters (the untrained fixture, and the shipped CamVid one on CamVid).
mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assert_cmd::Command as Cli;
use egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use scenebrush::canvas::LabelMap;
use scenebrush::inference::{ProviderPreference, Segmenter, labels_from_photo, read_photo};
use scenebrush::models::{Architecture, Discriminator, ModelKind, ModelPackage};
use scenebrush::training::{
    CHECKPOINT_FILE, COMPILING_TEXT, Modulation, RunStatus, TrainSettings, TrainerLauncher,
    TrainerSetup, find_trainer, write_class_file,
};
use scenebrush::ui::actions::fit_to_canvas;
use scenebrush::ui::resources::{ActiveRun, fallback_classes};
use scenebrush::ui::{
    AppArgs, AppState, Command, SceneBrushApp, TrainCommand, TrainPick, TrainingRuntime, View,
};

/// The fake trainer's runs take a second or two; the real one tens of seconds on a busy CPU.
const FAKE_TIMEOUT: Duration = Duration::from_secs(60);
const REAL_TIMEOUT: Duration = Duration::from_secs(300);
const SEGMENTER: &str = "fixture-segmenter-untrained";

fn trainer_script(name: &str) -> PathBuf {
    common::repo_dir().join("tests/fixtures/trainer").join(name)
}

/// The fake trainer in `mode` (finish, error, crash, wait), run by bash.
fn fake(mode: &str) -> TrainerSetup {
    let script = trainer_script("fake_trainer.sh");
    let script = script.to_str().expect("a UTF-8 checkout path");
    TrainerSetup::Ready(TrainerLauncher::program("bash", &[script, mode]))
}

fn app(model_dirs: Vec<PathBuf>, setup: TrainerSetup, tmp: &Path) -> SceneBrushApp {
    common::runtime();
    let args = AppArgs {
        model_dirs,
        labels: None,
        provider: ProviderPreference::Cpu,
        session_file: None,
        ..Default::default()
    };
    SceneBrushApp::new(&args, AppState::default()).with_training(TrainingRuntime::new(
        setup,
        Some(tmp.join("runs")),
        Some(tmp.join("user-models")),
    ))
}

fn harness(app: SceneBrushApp) -> Harness<'static, SceneBrushApp> {
    Harness::builder()
        .with_size([1440.0, 900.0])
        .build_eframe(move |_cc| app)
}

fn click(h: &mut Harness<'_, SceneBrushApp>, label: &str) {
    h.get_by_label(label).click();
    h.step();
    h.step();
}

/// Opens the combo box that shows `selected`.
fn open_combo_box(h: &mut Harness<'_, SceneBrushApp>, selected: &str) {
    h.get_by(|n| {
        n.role() == egui::accesskit::Role::ComboBox && n.value().as_deref() == Some(selected)
    })
    .click();
    h.step();
    h.step();
}

fn has_text(h: &Harness<'_, SceneBrushApp>, text: &str) -> bool {
    h.query_all_by(|n| {
        n.value().is_some_and(|v| v.contains(text)) || n.label().is_some_and(|l| l.contains(text))
    })
    .next()
    .is_some()
}

fn command(h: &mut Harness<'_, SceneBrushApp>, c: Command) {
    let ctx = h.ctx.clone();
    h.state_mut().apply_commands(&ctx, vec![c]);
    h.step();
    h.step();
}

/// Changes the Train tab's settings as its widgets do (without running a frame).
fn set_train(h: &mut Harness<'_, SceneBrushApp>, change: impl FnOnce(&mut TrainSettings)) {
    let mut settings = h.state().state().train.clone();
    change(&mut settings);
    let ctx = h.ctx.clone();
    h.state_mut()
        .apply_commands(&ctx, vec![Command::Train(TrainCommand::Set(settings))]);
}

/// Starts the run set up in the Train tab and waits until the (fake) trainer's model is exported.
fn start_and_wait_for_export(h: &mut Harness<'_, SceneBrushApp>) {
    click(h, "Start");
    wait_until(h, "the export", FAKE_TIMEOUT, |a| {
        matches!(status(a), Some(RunStatus::Exported { .. }))
    });
}

/// The trainer's arguments of a run, joined by spaces.
fn plan_args(run: &ActiveRun) -> String {
    run.plan
        .args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn status(app: &SceneBrushApp) -> Option<RunStatus> {
    app.training().run().map(|r| r.progress.status.clone())
}

/// The run's status and log, for failure messages.
fn describe(app: &SceneBrushApp) -> String {
    match app.training().run() {
        Some(run) => format!(
            "status {:?}, step {}/{}, message {:?}\nlog:\n{}",
            run.progress.status,
            run.progress.step,
            run.progress.steps,
            app.training().message(),
            run.progress
                .log
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        ),
        None => format!("no run; message {:?}", app.training().message()),
    }
}

fn wait_until(
    h: &mut Harness<'_, SceneBrushApp>,
    what: &str,
    timeout: Duration,
    done: impl Fn(&SceneBrushApp) -> bool,
) {
    let start = Instant::now();
    while !done(h.state()) {
        assert!(
            start.elapsed() < timeout,
            "{what} did not happen within {timeout:?}: {}",
            describe(h.state())
        );
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    h.step();
    h.step();
}

fn wait_for_renders(h: &mut Harness<'_, SceneBrushApp>) {
    let start = Instant::now();
    loop {
        h.step();
        let app = h.state();
        if app.settled() {
            return;
        }
        let status = app.models_status();
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "renders did not arrive: {status:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// `data/photos` and `data/labels` (empty: the fake trainer reads nothing).
fn empty_dataset(tmp: &Path) -> PathBuf {
    let data = tmp.join("data");
    std::fs::create_dir_all(data.join("photos")).expect("mkdir");
    std::fs::create_dir_all(data.join("labels")).expect("mkdir");
    data
}

/// A models folder with a copy of a fixture generator that ships a (dummy) checkpoint.
fn models_with_checkpoint(tmp: &Path, id: &str) -> PathBuf {
    let models = tmp.join("shipped");
    common::copy_package(&common::fixtures_dir().join(id), &models.join(id));
    std::fs::write(
        models.join(id).join(CHECKPOINT_FILE),
        b"not read by the fake",
    )
    .expect("write");
    models
}

fn type_name(h: &mut Harness<'_, SceneBrushApp>, name: &str) {
    h.get_by_label("Model name").click();
    h.step();
    h.event(egui::Event::Text(name.into()));
    h.step();
    h.key_press(Key::Enter);
    h.step();
}

#[test]
fn train_tab_runs_the_trainer_plots_losses_and_compares_the_new_model() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let base = common::FIXTURES[0];
    let models = models_with_checkpoint(tmp.path(), base);
    let data = empty_dataset(tmp.path());
    let mut h = harness(app(vec![models], fake("finish"), tmp.path()));
    h.step();
    click(&mut h, "Train");
    assert_eq!(h.state().state().view, View::Train);
    assert!(has_text(&h, "Train a model"));

    // A dataset folder with photos/ and labels/ fills both.
    command(
        &mut h,
        Command::Train(TrainCommand::Picked(TrainPick::Dataset, data.clone())),
    );
    let train = h.state().state().train.clone();
    assert_eq!(train.photos, Some(data.join("photos")));
    assert_eq!(train.labels, Some(data.join("labels")));
    set_train(&mut h, |t| {
        t.base_model = Some(base.to_string());
        t.steps = 3;
    });
    h.step();
    assert!(has_text(&h, "architecture and size come from it"));
    type_name(&mut h, "Tuned streets");
    assert_eq!(h.state().state().train.name, "Tuned streets");
    assert!(has_text(&h, "id tuned-streets"));

    click(&mut h, "Check dataset");
    wait_until(&mut h, "the dataset check", FAKE_TIMEOUT, |a| {
        a.training().check_done()
    });
    assert!(has_text(&h, "Dataset OK: 4 pairs"));
    // With the pair count known, the steps also read as epochs (3 steps x 1 / 4 pairs).
    assert_eq!(h.state().training().pairs(), Some(4));

    click(&mut h, "Start");
    let run_dir = h
        .state()
        .training()
        .run()
        .map(|r| r.plan.run_dir.clone())
        .expect("a run");
    assert_eq!(run_dir, tmp.path().join("runs/tuned-streets"));
    wait_until(&mut h, "the export", FAKE_TIMEOUT, |a| {
        a.state().view == View::Compare
    });

    let app = h.state();
    let run = app.training().run().expect("the run");
    assert!(
        matches!(&run.progress.status, RunStatus::Exported { id, .. } if id == "tuned-streets"),
        "{}",
        describe(app)
    );
    // The curves hold exactly the recorded losses.
    assert_eq!(
        run.progress.losses["g_gan"],
        vec![[1.0, -0.0119], [2.0, -0.0104], [3.0, -0.0092]]
    );
    assert_eq!(run.progress.losses.len(), 4);
    assert_eq!((run.progress.step, run.progress.steps), (3, 3));
    assert_eq!(run.progress.images_per_s, Some(1.5));
    let sample = run.sample.as_ref().expect("the sample grid");
    assert_eq!((sample.step, sample.size()), (2, [256, 192]));
    assert!(
        run.progress.log.iter().any(|l| l.contains("INFO step 3/3")),
        "{}",
        describe(app)
    );
    let args = plan_args(run);
    assert!(
        args.contains("--init-from") && args.contains("--train-preset finetune"),
        "{args}"
    );

    // The package is registered without a restart, and compared with its base.
    let pkg = app.package("tuned-streets").expect("registered");
    assert_eq!(pkg.dir, tmp.path().join("user-models/tuned-streets"));
    assert_eq!(pkg.meta.name, "Tuned streets");
    assert_eq!(
        app.state().compare_models,
        vec![base.to_string(), "tuned-streets".to_string()]
    );
    wait_for_renders(&mut h);
    let app = h.state();
    for id in [base, "tuned-streets"] {
        assert!(app.result(id).is_some(), "{id} rendered");
    }
    assert!(has_text(&h, "Result of Tuned streets"));
    assert_eq!(h.state().state().train.last_run, Some(run_dir));

    // Back in the Train tab the plot shows the values it was given.
    click(&mut h, "Train");
    let (min, max) = h.state().loss_plot_bounds().expect("a plot");
    assert!(min[0] <= 1.0 && max[0] >= 3.0, "{min:?} {max:?}");
    assert!(min[1] <= -0.0119 && max[1] >= 25.25, "{min:?} {max:?}");
    assert!(has_text(&h, "Saved as model tuned-streets"));
}

#[test]
fn stop_sends_sigterm_keeps_the_checkpoint_painting_goes_on_and_resume_finishes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = empty_dataset(tmp.path());
    let mut h = harness(app(vec![common::fixtures_dir()], fake("wait"), tmp.path()));
    h.step();
    click(&mut h, "Train");
    command(
        &mut h,
        Command::Train(TrainCommand::Picked(TrainPick::Dataset, data)),
    );
    type_name(&mut h, "Stopper");
    click(&mut h, "Varied styles");
    click(&mut h, "Start");
    wait_until(&mut h, "the first step", FAKE_TIMEOUT, |a| {
        a.training()
            .run()
            .is_some_and(|r| r.progress.step == 1 && r.progress.status == RunStatus::Running)
    });
    assert!(h.state().training().is_training());
    // From scratch: the architecture choices are passed on.
    let args = plan_args(h.state().training().run().expect("run"));
    assert!(
        args.contains("--preset small --generator spade --discriminator fpse"),
        "{args:?}"
    );
    assert!(
        args.contains("--lambda-ms 10 --ms-tau 0.2 --ms-pool 8"),
        "the Varied styles box adds the mode-seeking term: {args:?}"
    );

    // While it trains, the canvas paints.
    click(&mut h, "Paint");
    click(&mut h, "Car");
    let car = h.state().state().active_class;
    let before = h.state().labels().clone();
    let (a, b) = (
        h.state().canvas_to_screen(40.5, 20.5),
        h.state().canvas_to_screen(200.5, 20.5),
    );
    h.hover_at(a);
    h.step();
    h.drag_at(a);
    h.step();
    for i in 1..=10 {
        h.hover_at(a.lerp(b, i as f32 / 10.0));
        h.step();
    }
    h.drop_at(b);
    h.step();
    let after = h.state().labels().clone();
    assert_ne!(after, before);
    assert_eq!(after.get(120, 20), Some(car));
    assert!(has_text(&h, "Training Stopper: step 1/3"), "status bar");
    assert!(h.state().training().is_training());

    click(&mut h, "Train");
    click(&mut h, "Stop");
    wait_until(&mut h, "the stop", FAKE_TIMEOUT, |a| {
        !a.training().is_training()
    });
    let run_dir = tmp.path().join("runs/stopper");
    assert_eq!(
        std::fs::read_to_string(run_dir.join("fake-signal")).expect("the fake recorded a signal"),
        "SIGTERM\n"
    );
    assert!(
        matches!(status(h.state()), Some(RunStatus::Stopped { reason, .. }) if reason == "SIGTERM"),
        "{}",
        describe(h.state())
    );
    assert!(has_text(&h, "Stopped at step 1 (SIGTERM)"));

    // Resume continues the same run from the run view; stop it again.
    click(&mut h, "Resume");
    wait_until(&mut h, "the resumed run's start", FAKE_TIMEOUT, |a| {
        a.training().is_training() && matches!(status(a), Some(RunStatus::Running))
    });
    let args = &h.state().training().run().expect("run").plan.args;
    assert!(args.iter().any(|a| a.to_string_lossy() == "--resume"));
    click(&mut h, "Stop");
    wait_until(&mut h, "the second stop", FAKE_TIMEOUT, |a| {
        !a.training().is_training()
    });
    assert!(matches!(status(h.state()), Some(RunStatus::Stopped { .. })));

    // As after a restart (no run on screen), the run is resumed from the list of runs: its
    // events file is replayed, so the curve still starts at step 1.
    command(&mut h, Command::Train(TrainCommand::CloseRun));
    command(&mut h, Command::Train(TrainCommand::RefreshRuns));
    h.state_mut().set_trainer(fake("finish"));
    h.step();
    assert!(has_text(&h, "EARLIER RUNS"));
    click(&mut h, "Resume");
    wait_until(&mut h, "the resumed run's export", FAKE_TIMEOUT, |a| {
        matches!(status(a), Some(RunStatus::Exported { .. }))
    });
    let app = h.state();
    let run = app.training().run().expect("run");
    assert_eq!(run.plan.run_dir, run_dir);
    // The curve continues: step 1 from before the stops, steps 2 and 3 after.
    let steps: Vec<f64> = run.progress.losses["g_feat"].iter().map(|p| p[0]).collect();
    assert_eq!(steps, [1.0, 2.0, 3.0]);
    assert!(app.package("stopper").is_some());
}

#[test]
fn the_train_tab_says_the_networks_are_compiling_until_the_first_step() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = empty_dataset(tmp.path());
    // The fake in wait mode with FAKE_COMPILE=1: a start with train.compile true, a compile
    // event, then no step until it is stopped.
    let TrainerSetup::Ready(mut launcher) = fake("wait") else {
        unreachable!()
    };
    launcher.env.push(("FAKE_COMPILE".into(), "1".into()));
    let mut h = harness(app(
        vec![common::fixtures_dir()],
        TrainerSetup::Ready(launcher),
        tmp.path(),
    ));
    h.step();
    click(&mut h, "Train");
    command(
        &mut h,
        Command::Train(TrainCommand::Picked(TrainPick::Dataset, data)),
    );
    type_name(&mut h, "Compiler");
    click(&mut h, "Start");
    wait_until(&mut h, "the compile event", FAKE_TIMEOUT, |a| {
        a.training()
            .run()
            .is_some_and(|r| r.progress.compiling() && r.progress.compile_note.is_some())
    });
    assert!(has_text(&h, COMPILING_TEXT), "{}", describe(h.state()));
    assert!(has_text(&h, "step 0 of 3 (0%) · compiling the networks"));
    assert!(has_text(&h, "ETA after the first steps"));
    assert!(!has_text(&h, "images/s"), "no rate before the first step");
    assert!(has_text(
        &h,
        "Training Compiler: compiling the networks before the first step"
    ));

    // A stop while compiling ends it like any other; the explanation goes.
    click(&mut h, "Stop");
    wait_until(&mut h, "the stop", FAKE_TIMEOUT, |a| {
        !a.training().is_training()
    });
    assert!(
        matches!(status(h.state()), Some(RunStatus::Stopped { .. })),
        "{}",
        describe(h.state())
    );
    assert!(
        !h.state()
            .training()
            .run()
            .expect("run")
            .progress
            .compiling()
    );
    assert!(!has_text(&h, "Compiling the networks"));
}

#[test]
fn the_train_tab_offers_every_discriminator_and_passes_oasis_on() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = empty_dataset(tmp.path());
    let mut h = harness(app(
        vec![common::fixtures_dir()],
        fake("finish"),
        tmp.path(),
    ));
    h.step();
    click(&mut h, "Train");
    command(
        &mut h,
        Command::Train(TrainCommand::Picked(TrainPick::Dataset, data)),
    );
    // From scratch (no fixture ships a checkpoint): the discriminator list holds them all.
    assert_eq!(h.state().state().train.base_model, None);
    open_combo_box(&mut h, Discriminator::Fpse.choice_label());
    for d in Discriminator::ALL {
        assert!(has_text(&h, d.choice_label()), "{d:?} is not offered");
    }
    click(&mut h, Discriminator::Oasis.choice_label());
    assert_eq!(h.state().state().train.discriminator, Discriminator::Oasis);
    type_name(&mut h, "Oasis");
    start_and_wait_for_export(&mut h);
    let args = plan_args(h.state().training().run().expect("the run"));
    assert!(
        args.contains("--generator spade --discriminator oasis"),
        "{args:?}"
    );
}

#[test]
fn the_train_tab_offers_clade_for_a_new_spade_generator() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = empty_dataset(tmp.path());
    let mut h = harness(app(
        vec![common::fixtures_dir()],
        fake("finish"),
        tmp.path(),
    ));
    h.step();
    click(&mut h, "Train");
    command(
        &mut h,
        Command::Train(TrainCommand::Picked(TrainPick::Dataset, data)),
    );
    // The modulation is the SPADE generator's: not offered for CC-FPSE.
    open_combo_box(&mut h, Architecture::Spade.display_name());
    click(&mut h, Architecture::Ccfpse.display_name());
    assert!(!has_text(&h, Modulation::Clade.label()));
    open_combo_box(&mut h, Architecture::Ccfpse.display_name());
    click(&mut h, Architecture::Spade.display_name());
    click(&mut h, Modulation::Clade.label());
    assert_eq!(h.state().state().train.modulation, Modulation::Clade);
    type_name(&mut h, "Clade");
    start_and_wait_for_export(&mut h);
    let args = plan_args(h.state().training().run().expect("the run"));
    assert!(
        args.contains("--generator spade --modulation clade --discriminator fpse"),
        "{args:?}"
    );
}

#[test]
fn diffaugment_and_the_labelmix_weight_reach_the_trainer() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = empty_dataset(tmp.path());
    let mut h = harness(app(
        vec![common::fixtures_dir()],
        fake("finish"),
        tmp.path(),
    ));
    h.step();
    click(&mut h, "Train");
    command(
        &mut h,
        Command::Train(TrainCommand::Picked(TrainPick::Dataset, data)),
    );
    // Off by default, as in the trainer; its parts show once it is on, all three chosen.
    assert!(!h.state().state().train.diffaug.on);
    assert!(!has_text(&h, "translation"));
    click(&mut h, "DiffAugment (small datasets)");
    assert!(h.state().state().train.diffaug.on);
    assert_eq!(
        h.state().state().train.diffaug.policy(),
        "color,translation,cutout"
    );
    click(&mut h, "translation");
    assert_eq!(h.state().state().train.diffaug.policy(), "color,cutout");
    // The LabelMix weight is OASIS's: shown only once OASIS is chosen.
    assert!(!has_text(&h, "LabelMix weight"));
    open_combo_box(&mut h, Discriminator::Fpse.choice_label());
    click(&mut h, Discriminator::Oasis.choice_label());
    assert!(has_text(&h, "LabelMix weight"));
    type_name(&mut h, "Augmented");
    start_and_wait_for_export(&mut h);
    let run = h.state().training().run().expect("the run");
    let args = plan_args(run);
    assert!(
        args.contains("--discriminator oasis")
            && args.contains("--lambda-labelmix 10 --diffaug color,cutout"),
        "{args}"
    );
    // The fake trainer got them: its start event reports them back, as the real one does.
    assert_eq!(run.progress.recipe.diffaug.as_deref(), Some("color,cutout"));
    assert_eq!(run.progress.recipe.discriminator.as_deref(), Some("oasis"));
    // OASIS's losses make the curves: d_labelmix, no g_feat.
    let names: Vec<&str> = run.progress.losses.keys().map(String::as_str).collect();
    assert_eq!(names, ["d_fake", "d_labelmix", "d_real", "g_gan"]);
    assert_eq!(run.progress.losses["d_labelmix"].len(), 3);
    // Back in the Train tab (the export opened the compare view), the run view says so.
    click(&mut h, "Train");
    assert!(has_text(&h, "DiffAugment color,cutout"));
    assert!(has_text(&h, "OASIS discriminator, LabelMix weight 10"));
    assert!(h.state().loss_plot_bounds().is_some());
}

#[test]
fn trainer_errors_and_crashes_are_shown() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = empty_dataset(tmp.path());
    let mut h = harness(app(vec![common::fixtures_dir()], fake("error"), tmp.path()));
    h.step();
    click(&mut h, "Train");
    command(
        &mut h,
        Command::Train(TrainCommand::Picked(TrainPick::Dataset, data)),
    );
    type_name(&mut h, "Doomed");
    click(&mut h, "Start");
    wait_until(&mut h, "the failure", FAKE_TIMEOUT, |a| {
        matches!(status(a), Some(RunStatus::Failed { .. })) && !a.training().is_training()
    });
    assert!(has_text(&h, "Training failed"));
    assert!(has_text(
        &h,
        "CUDA out of memory while training step 2 (fake)"
    ));
    assert!(has_text(&h, "The trainer ended with exit status 1"));
    assert!(h.state().package("doomed").is_none());

    // A trainer that dies without an error event: its exit status and last words are shown.
    h.state_mut().set_trainer(fake("crash"));
    click(&mut h, "Start");
    wait_until(&mut h, "the crash", FAKE_TIMEOUT, |a| {
        !a.training().is_training()
            && a.training()
                .run()
                .is_some_and(|r| r.plan.run_dir.ends_with("doomed-2") && r.progress.exit.is_some())
    });
    let Some(RunStatus::Failed { message }) = status(h.state()) else {
        panic!("{}", describe(h.state()));
    };
    assert!(
        message.contains("exit status 3") && message.contains("Segmentation fault (fake)"),
        "{message}"
    );
    assert!(has_text(&h, "Segmentation fault (fake)"));
}

#[test]
fn dataset_check_lists_problems_file_by_file_and_bad_settings_are_explained() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = empty_dataset(tmp.path());
    let mut h = harness(app(vec![common::fixtures_dir()], fake("error"), tmp.path()));
    h.step();
    click(&mut h, "Train");
    command(
        &mut h,
        Command::Train(TrainCommand::Picked(TrainPick::Photos, data.join("photos"))),
    );
    command(
        &mut h,
        Command::Train(TrainCommand::Picked(TrainPick::Labels, data.join("labels"))),
    );
    click(&mut h, "Check dataset");
    wait_until(&mut h, "the dataset check", FAKE_TIMEOUT, |a| {
        a.training().check_done()
    });
    assert!(has_text(&h, "The dataset has 2 problems (2 good pairs)"));
    assert!(has_text(&h, "extra.png"));
    assert!(has_text(&h, "has values 40 outside the class list"));
    // The check wrote the canvas's classes to a class file for the trainer.
    let (classes, _) = fallback_classes();
    assert_eq!(h.state().classes().len(), classes.len());

    // Start without a name: the reason is shown and nothing starts.
    click(&mut h, "Start");
    assert!(h.state().training().run().is_none());
    assert!(has_text(&h, "give the new model a name"));

    // A base model without a training checkpoint is explained before and on Start.
    type_name(&mut h, "From fixture");
    set_train(&mut h, |t| {
        t.base_model = Some(common::FIXTURES[0].to_string())
    });
    h.step();
    h.step();
    assert!(has_text(&h, "has no checkpoint.pt"));
    click(&mut h, "Start");
    assert!(h.state().training().run().is_none());
    let message = h
        .state()
        .training()
        .message()
        .map(str::to_string)
        .expect("a reason");
    assert!(
        message.contains("has no checkpoint.pt") && message.contains("train from scratch"),
        "{message}"
    );
    assert!(!tmp.path().join("runs/from-fixture").exists());
}

#[test]
fn a_missing_environment_offers_the_setup_and_shows_its_output() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let setup = TrainerSetup::NoEnvironment {
        root: tmp.path().to_path_buf(),
        python: tmp.path().join(".venv/bin/python"),
        setup_script: trainer_script("fake_setup.sh"),
    };
    let mut h = harness(app(vec![common::fixtures_dir()], setup, tmp.path()));
    h.step();
    click(&mut h, "Train");
    assert!(has_text(&h, "about 3 GB (PyTorch)"));
    assert!(h.get_by_label("Start").accesskit_node().is_disabled());
    click(&mut h, "Set up the trainer environment");
    wait_until(&mut h, "the setup", FAKE_TIMEOUT, |a| {
        a.training()
            .setup_job
            .as_ref()
            .is_some_and(|j| j.exit.is_some())
    });
    let job = h.state().training().setup_job().expect("job");
    assert!(job.exit.is_some_and(|e| e.success()));
    let log: Vec<&String> = job.log.iter().collect();
    assert!(log.iter().any(|l| l.contains("[setup] ready")), "{log:?}");
    assert!(has_text(&h, "installing the trainer (fake)"));
    // After a good setup the trainer is looked for again (this checkout has its environment).
    assert_eq!(*h.state().training().setup(), find_trainer());
}

// ---------------------------------------------------------------------------------------------
// Open photo as layout

fn gray_png(path: &Path) -> LabelMap {
    let img = image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into_luma8();
    LabelMap::from_raw(img.width(), img.height(), img.into_raw()).expect("a label map")
}

fn agreement(a: &LabelMap, b: &LabelMap) -> f64 {
    assert_eq!((a.width(), a.height()), (b.width(), b.height()));
    let same = a
        .data()
        .iter()
        .zip(b.data())
        .filter(|(x, y)| x == y)
        .count();
    same as f64 / a.data().len() as f64
}

#[test]
fn open_photo_as_layout_segments_into_the_canvas_as_one_undo_step() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut h = harness(app(
        vec![common::fixtures_dir()],
        fake("finish"),
        tmp.path(),
    ));
    h.step();
    let before = h.state().labels().clone();
    let steps = h.state().undo_len();
    let pkg = common::fixtures_dir().join(SEGMENTER);
    command(
        &mut h,
        Command::OpenPhoto(Some(pkg.join("reference_photo.png"))),
    );
    wait_until(&mut h, "the segmentation", FAKE_TIMEOUT, |a| {
        !a.segmenting()
    });
    assert!(h.state().error().is_none(), "{:?}", h.state().error());
    let labels = h.state().labels().clone();
    assert_eq!((labels.width(), labels.height()), (256, 192));
    let expected = fit_to_canvas(&gray_png(&pkg.join("reference_labels.png")), 256, 192);
    let agree = agreement(&labels, &expected);
    assert!(
        agree > 0.99,
        "only {agree} of the pixels match PyTorch's labels"
    );
    assert_eq!(labels.histogram()[11], 0, "don't care is never predicted");
    assert_eq!(h.state().undo_len(), steps + 1);
    assert!(has_text(&h, "Layout from reference_photo.png"));
    // One undo step restores the painting.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.step();
    assert_eq!(*h.state().labels(), before);

    // A JPEG dropped on the window is a photo: it is segmented too.
    let jpeg = tmp.path().join("street.jpg");
    read_photo(&pkg.join("reference_photo.png"))
        .expect("photo")
        .save(&jpeg)
        .expect("write jpeg");
    h.input_mut()
        .dropped_files
        .push(std::sync::Arc::new(common::PathFile(jpeg.clone())));
    h.step();
    wait_until(
        &mut h,
        "the dropped photo's segmentation",
        FAKE_TIMEOUT,
        |a| !a.segmenting(),
    );
    assert!(h.state().error().is_none(), "{:?}", h.state().error());
    let from_jpeg = h.state().labels().clone();
    let package = common::fixture(SEGMENTER);
    let direct = labels_from_photo(&package, &jpeg, ProviderPreference::Cpu).expect("segment");
    assert_eq!(from_jpeg, fit_to_canvas(&direct, 256, 192));
    assert_ne!(from_jpeg, before);
}

#[test]
fn open_photo_explains_differing_classes_and_a_missing_segmenter() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let models = tmp.path().join("models");
    common::copy_package(
        &common::fixtures_dir().join(common::FIXTURES[0]),
        &models.join("gen"),
    );
    let seg = models.join("seg");
    common::copy_package(&common::fixtures_dir().join(SEGMENTER), &seg);
    let json = std::fs::read_to_string(seg.join("model.json")).expect("read");
    std::fs::write(
        seg.join("model.json"),
        json.replacen("\"Road\"", "\"Water\"", 1),
    )
    .expect("write");
    let photo = common::fixtures_dir()
        .join(SEGMENTER)
        .join("reference_photo.png");
    let mut h = harness(app(vec![models.clone()], fake("finish"), tmp.path()));
    h.step();
    let before = h.state().labels().clone();
    command(&mut h, Command::OpenPhoto(Some(photo.clone())));
    let error = h.state().error().cloned().expect("an error");
    assert_eq!(error.title, "The segmenter's classes differ");
    assert!(
        error.message.contains("id 3 is Water there, Road here")
            && error.message.contains(SEGMENTER)
            && error.message.contains(common::FIXTURES[0]),
        "{error:?}"
    );
    assert!(has_text(&h, "id 3 is Water there, Road here"));
    assert_eq!(*h.state().labels(), before);

    // Without any segmenter.
    std::fs::remove_dir_all(&seg).expect("remove");
    let mut h = harness(app(vec![models], fake("finish"), tmp.path()));
    h.step();
    command(&mut h, Command::OpenPhoto(Some(photo)));
    let error = h.state().error().cloned().expect("an error");
    assert_eq!(error.title, "No segmenter model");
    assert!(error.message.contains("camvid-segmenter"), "{error:?}");
}

#[test]
fn the_fixture_segmenter_matches_pytorch_and_handles_other_photo_sizes() {
    common::runtime();
    let package = common::fixture(SEGMENTER);
    assert_eq!(package.meta.kind, ModelKind::Segmenter);
    let mut segmenter = Segmenter::load(&package, ProviderPreference::Cpu).expect("load");
    let photo = read_photo(&package.dir.join("reference_photo.png")).expect("photo");
    let labels = segmenter.segment(&photo).expect("segment");
    let expected = gray_png(&package.dir.join("reference_labels.png"));
    let agree = agreement(&labels, &expected);
    // Exact up to near-ties of the untrained logits (ONNX Runtime vs PyTorch kernels).
    assert!(agree > 0.995, "{agree}");

    // A wide JPEG is centre-cropped to 4:3 and scaled: the result is at the model's size.
    let tmp = tempfile::tempdir().expect("tempdir");
    let wide = tmp.path().join("wide.jpg");
    image::RgbImage::from_fn(300, 120, |x, y| {
        image::Rgb([(x % 256) as u8, (y * 2) as u8, 90])
    })
    .save(&wide)
    .expect("write jpeg");
    let map = labels_from_photo(&package, &wide, ProviderPreference::Cpu).expect("segment");
    assert_eq!((map.width(), map.height()), (64, 48));
    assert_eq!(map.histogram()[11], 0);
    assert!(map.data().iter().all(|&v| v < 11));

    // Not a photo; a generator is no segmenter.
    let text = tmp.path().join("notes.png");
    std::fs::write(&text, "hello").expect("write");
    let err = labels_from_photo(&package, &text, ProviderPreference::Cpu).expect_err("no photo");
    assert!(err.to_string().contains("notes.png"), "{err}");
    let err = Segmenter::load(
        &common::fixture(common::FIXTURES[0]),
        ProviderPreference::Cpu,
    )
    .expect_err("a generator");
    assert!(err.to_string().contains("not a segmenter"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Command line

fn scenebrush() -> Cli {
    let mut cmd = Cli::cargo_bin("scenebrush").expect("binary built");
    cmd.env_remove("SCENEBRUSH_MODELS");
    cmd
}

#[test]
fn segment_command_writes_class_ids_atomically_and_explains_bad_input() {
    common::runtime();
    let tmp = tempfile::tempdir().expect("tempdir");
    let pkg = common::fixture(SEGMENTER);
    let photo = pkg.dir.join("reference_photo.png");
    let out = tmp.path().join("labels.png");
    let run = |args: &[&std::ffi::OsStr]| {
        let mut cmd = scenebrush();
        cmd.arg("--models-dir").arg(common::fixtures_dir());
        cmd.args(args);
        cmd.assert()
    };
    let stdout = run(&[
        "segment".as_ref(),
        photo.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ])
    .success()
    .get_output()
    .stdout
    .clone();
    let text = String::from_utf8_lossy(&stdout);
    assert!(
        text.contains("64x48 class ids") && text.contains(SEGMENTER),
        "{text}"
    );
    let written = gray_png(&out);
    assert!(agreement(&written, &gray_png(&pkg.dir.join("reference_labels.png"))) > 0.995);

    // An existing output is kept without --force.
    std::fs::write(&out, b"keep me").expect("write");
    let err = run(&[
        "segment".as_ref(),
        photo.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ])
    .failure()
    .get_output()
    .stderr
    .clone();
    assert!(String::from_utf8_lossy(&err).contains("--force"));
    assert_eq!(std::fs::read(&out).expect("read"), b"keep me");
    run(&[
        "segment".as_ref(),
        photo.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
        "--force".as_ref(),
    ])
    .success();
    assert_eq!(gray_png(&out), written);

    let bad = |args: Vec<&std::ffi::OsStr>, needle: &str| {
        let stderr = run(&args).failure().get_output().stderr.clone();
        let text = String::from_utf8_lossy(&stderr).into_owned();
        assert!(text.contains(needle), "{needle:?} not in {text}");
    };
    let other = tmp.path().join("other.png");
    let notes = tmp.path().join("notes.png");
    std::fs::write(&notes, "not an image").expect("write");
    bad(
        vec![
            "segment".as_ref(),
            "nope.jpg".as_ref(),
            "-o".as_ref(),
            other.as_os_str(),
        ],
        "photo nope.jpg does not exist",
    );
    let folder = tmp.path().join("photos.jpg");
    std::fs::create_dir(&folder).expect("mkdir");
    bad(
        vec![
            "segment".as_ref(),
            folder.as_os_str(),
            "-o".as_ref(),
            other.as_os_str(),
        ],
        "photos.jpg is a folder, not a file; pick a file inside it",
    );
    std::fs::remove_dir(&folder).expect("rmdir");
    bad(
        vec![
            "segment".as_ref(),
            notes.as_os_str(),
            "-o".as_ref(),
            other.as_os_str(),
        ],
        "cannot read the photo",
    );
    bad(
        vec![
            "segment".as_ref(),
            photo.as_os_str(),
            "-o".as_ref(),
            tmp.path().join("x.jpg").as_os_str(),
        ],
        "not a .png name",
    );
    bad(
        vec![
            "segment".as_ref(),
            photo.as_os_str(),
            "--model".as_ref(),
            common::FIXTURES[0].as_ref(),
            "-o".as_ref(),
            other.as_os_str(),
        ],
        "is a generator, not a segmenter",
    );
    let no_seg = scenebrush()
        .arg("--models-dir")
        .arg(common::fixtures_dir().join(common::FIXTURES[0]))
        .args([
            "segment".as_ref(),
            photo.as_os_str(),
            "-o".as_ref(),
            other.as_os_str(),
        ])
        .assert()
        .failure()
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8_lossy(&no_seg).contains("no segmenter model"));
    let mut left: Vec<String> = std::fs::read_dir(tmp.path())
        .expect("list")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["labels.png", "notes.png"], "no half-written files");
}

/// What a finished command wrote to stderr.
fn stderr_text(assert: assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

fn fake_train_cli(mode: &str, args: &[&std::ffi::OsStr]) -> assert_cmd::assert::Assert {
    let mut cmd = scenebrush();
    cmd.env("SCENEBRUSH_TRAINER", trainer_script("fake_trainer.sh"))
        .env("FAKE_TRAINER_MODE", mode)
        .arg("train")
        .args(args);
    cmd.assert()
}

#[test]
fn train_command_shows_progress_lines_not_json_and_returns_the_trainers_status() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let run = tmp.path().join("run");
    let export = tmp.path().join("models/cli-model");
    let assert = fake_train_cli(
        "finish",
        &[
            "--out".as_ref(),
            run.as_os_str(),
            "--export-to".as_ref(),
            export.as_os_str(),
        ],
    )
    .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    for needle in [
        "dataset fake: 4 pairs, no problems",
        "training 3 steps on cpu (4 images)",
        "step 3/3",
        "g_gan -0.009",
        "finished 3 steps in 2 s",
        "exported model cli-model to",
    ] {
        assert!(stdout.contains(needle), "{needle:?} not in\n{stdout}");
    }
    assert!(!stdout.contains("{\"event\""), "raw JSON shown:\n{stdout}");
    assert!(export.join("model.json").is_file());

    // Events written to a file (--events) are followed the same way.
    let events = tmp.path().join("events.jsonl");
    let stdout = fake_train_cli(
        "finish",
        &[
            "--out".as_ref(),
            tmp.path().join("run2").as_os_str(),
            "--events".as_ref(),
            events.as_os_str(),
        ],
    )
    .success()
    .get_output()
    .stdout
    .clone();
    assert!(String::from_utf8_lossy(&stdout).contains("finished 3 steps"));
    assert!(
        std::fs::read_to_string(&events)
            .expect("events")
            .contains("\"finished\"")
    );

    // A trainer that compiles says so before its first step.
    let stdout = scenebrush()
        .env("SCENEBRUSH_TRAINER", trainer_script("fake_trainer.sh"))
        .env("FAKE_TRAINER_MODE", "finish")
        .env("FAKE_COMPILE", "1")
        .arg("train")
        .args(["--out".as_ref(), tmp.path().join("run3").as_os_str()])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let stdout = String::from_utf8_lossy(&stdout);
    assert!(stdout.contains(COMPILING_TEXT), "{stdout}");

    // A trainer that cannot be started is named.
    let text = stderr_text(
        scenebrush()
            .env("SCENEBRUSH_TRAINER", "/nonexistent/trainer")
            .args(["train", "--out", "x"])
            .assert()
            .failure(),
    );
    assert!(
        text.contains("cannot start `/nonexistent/trainer train --out x`"),
        "{text}"
    );

    // The trainer's error, and a crash: its status is scenebrush's.
    let text = stderr_text(
        fake_train_cli(
            "error",
            &["--out".as_ref(), tmp.path().join("r3").as_os_str()],
        )
        .code(1),
    );
    assert!(
        text.contains("error: CUDA out of memory while training step 2 (fake)"),
        "{text}"
    );
    let text = stderr_text(
        fake_train_cli(
            "crash",
            &["--out".as_ref(), tmp.path().join("r4").as_os_str()],
        )
        .code(3),
    );
    assert!(
        text.contains("Segmentation fault (fake)") && text.contains("ended with exit status 3"),
        "{text}"
    );
}

// ---------------------------------------------------------------------------------------------
// The real trainer

/// Four 64x64 photo/label pairs: bands of sky, buildings and road with a car, photos in the
/// class colours plus noise.
fn tiny_dataset(root: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let (classes, dontcare) = fallback_classes();
    let (photos, labels) = (root.join("photos"), root.join("labels"));
    std::fs::create_dir_all(&photos).expect("mkdir");
    std::fs::create_dir_all(&labels).expect("mkdir");
    for i in 0..4u32 {
        let mut map = LabelMap::new(64, 64, 0);
        for y in 20..64 {
            for x in 0..64 {
                let class = if y >= 44 {
                    3
                } else if (x + 8 * i) % 32 < 20 {
                    1
                } else {
                    0
                };
                map.set(x, y, class);
            }
        }
        for y in 36..50 {
            for x in 10 + 6 * i..30 + 6 * i {
                map.set(x, y, 8);
            }
        }
        let photo = image::RgbImage::from_fn(64, 64, |x, y| {
            let c = classes[usize::from(map.get(x, y).unwrap_or(0))].color;
            let n = ((x * 7 + y * 13 + i * 5) % 31) as u8;
            image::Rgb([
                c[0].saturating_add(n),
                c[1].saturating_add(n),
                c[2].saturating_add(n),
            ])
        });
        photo.save(photos.join(format!("p{i}.png"))).expect("photo");
        scenebrush::io::save_label_ids_png(&labels.join(format!("p{i}.png")), &map, false)
            .expect("labels");
    }
    let class_file = root.join("classes.json");
    write_class_file(&class_file, &classes, dontcare).expect("class file");
    (photos, labels, class_file)
}

#[test]
fn fine_tunes_a_tiny_model_with_the_real_trainer_and_renders_with_it() {
    let launcher = match find_trainer() {
        TrainerSetup::Ready(l) => l,
        other => {
            panic!("this test runs the bundled trainer: run scripts/setup.sh first ({other:?})")
        }
    };
    common::runtime();
    let tmp = tempfile::tempdir().expect("tempdir");
    let (photos, labels, class_file) = tiny_dataset(&tmp.path().join("data"));
    let models = tmp.path().join("models");

    // A tiny base model (1 step from scratch) through `scenebrush train`, then packaged the way
    // the app's models are shipped: with the float16 weights fine-tuning starts from.
    let base_run = tmp.path().join("base-run");
    let stdout = scenebrush()
        .args(["train", "--photos"])
        .arg(&photos)
        .arg("--labels")
        .arg(&labels)
        .arg("--classes")
        .arg(&class_file)
        .args([
            "--preset",
            "tiny",
            "--height",
            "64",
            "--width",
            "64",
            "--steps",
            "1",
            "--threads",
            "2",
            "--sample-every",
            "0",
            "--out",
        ])
        .arg(&base_run)
        .timeout(REAL_TIMEOUT)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8_lossy(&stdout);
    assert!(text.contains("finished 1 steps"), "{text}");
    let export = launcher
        .command([
            "export".as_ref(),
            "--checkpoint".as_ref(),
            base_run.as_os_str(),
            "--out".as_ref(),
            models.join("tiny-base").as_os_str(),
            "--name".as_ref(),
            "Tiny base".as_ref(),
            "--with-weights".as_ref(),
        ] as [&std::ffi::OsStr; 8])
        .output()
        .expect("run the trainer's export");
    assert!(
        export.status.success(),
        "export failed: {}",
        String::from_utf8_lossy(&export.stderr)
    );
    assert!(models.join("tiny-base").join(CHECKPOINT_FILE).is_file());

    // Fine-tune it for 2 steps from the Train tab.
    let mut h = harness(app(vec![models], TrainerSetup::Ready(launcher), tmp.path()));
    h.step();
    click(&mut h, "Train");
    set_train(&mut h, |train| {
        train.photos = Some(photos);
        train.labels = Some(labels);
        train.base_model = Some("tiny-base".into());
        train.steps = 2;
        train.device = scenebrush::training::TrainDevice::Cpu;
        train.name = "Tiny tuned".into();
    });
    h.step();
    click(&mut h, "Start");
    assert!(
        h.state().training().is_training(),
        "{}",
        describe(h.state())
    );
    wait_until(&mut h, "the fine-tuning", REAL_TIMEOUT, |a| {
        status(a).is_some_and(|s| s.is_over())
    });
    let app = h.state();
    let run = app.training().run().expect("run");
    assert!(
        matches!(&run.progress.status, RunStatus::Exported { id, .. } if id == "tiny-tuned"),
        "{}",
        describe(app)
    );
    assert!(
        run.progress
            .log
            .iter()
            .any(|l| l.contains("fine-tuning from")),
        "{}",
        describe(app)
    );
    assert_eq!(run.progress.losses["g_gan"].len(), 2, "{}", describe(app));
    assert!(run.sample.is_some(), "a sample grid arrived");
    assert_eq!(
        app.state().compare_models,
        vec!["tiny-base".to_string(), "tiny-tuned".to_string()]
    );
    wait_for_renders(&mut h);
    let app = h.state();
    let result = app.result("tiny-tuned").expect("the new model rendered");
    assert_eq!(result.image.dimensions(), (64, 64));

    // The package itself loads and renders through ONNX Runtime.
    let package = ModelPackage::load(&tmp.path().join("user-models/tiny-tuned")).expect("package");
    assert_eq!(package.meta.name, "Tiny tuned");
    assert_eq!(
        package.meta.training.as_ref().map(|t| t["steps"].clone()),
        Some(2.into())
    );
    let mut generator = scenebrush::inference::Generator::load(&package, ProviderPreference::Cpu)
        .expect("generator");
    let image = generator
        .generate(&common::sample_layout(&package), 7)
        .expect("render");
    let first = image.get_pixel(0, 0).0;
    assert!(
        image.pixels().any(|p| p.0 != first),
        "a picture, not a flat colour"
    );
}

// ---------------------------------------------------------------------------------------------
// The shipped segmenter on CamVid

fn camvid_dir() -> PathBuf {
    std::env::var_os("SCENEBRUSH_CAMVID")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::repo_dir().join("../shared/data/camvid"))
}

fn shipped_segmenter() -> ModelPackage {
    let dir = common::repo_dir().join("models/camvid-segmenter");
    ModelPackage::load(&dir).unwrap_or_else(|e| {
        panic!("the shipped segmenter models/camvid-segmenter is missing or broken: {e}")
    })
}

/// Needs no dataset: the shipped segmenter loads through the app's session and turns a
/// synthetic street photo (sky, buildings, road) into a label map of its own size.
#[test]
fn the_shipped_segmenter_loads_and_segments_a_synthetic_photo() {
    common::runtime();
    let package = shipped_segmenter();
    scenebrush::inference::check_package(&package).unwrap_or_else(|e| panic!("{e}"));
    let mut segmenter =
        Segmenter::load(&package, ProviderPreference::Cpu).unwrap_or_else(|e| panic!("{e}"));
    let photo = common::street_photo(1.0);
    let labels = segmenter.segment(&photo).unwrap_or_else(|e| panic!("{e}"));
    let m = &package.meta;
    assert_eq!((labels.width(), labels.height()), (m.width, m.height));
    let hist = labels.histogram();
    assert!(
        hist.iter().skip(m.classes.len()).all(|&c| c == 0),
        "ids outside the class list: {hist:?}"
    );
    assert!(
        hist.iter().filter(|&&c| c > 0).count() >= 2,
        "one class for a whole street photo: {hist:?}"
    );
}

#[test]
fn the_shipped_segmenter_labels_camvid_val_photos() {
    let camvid = camvid_dir();
    if !camvid.join("val").is_dir() || !camvid.join("valannot").is_dir() {
        // Straight to the process's stderr: libtest captures eprintln! of passing tests, and a
        // skip must be seen. scripts/test.sh says the same in its NOTE.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: the_shipped_segmenter_labels_camvid_val_photos: CamVid is not at {} \
             (set SCENEBRUSH_CAMVID to its folder); the segmenter's accuracy was not checked",
            camvid.display()
        );
        return;
    }
    common::runtime();
    let package = shipped_segmenter();
    let (classes, dontcare) = (package.meta.classes.clone(), package.meta.dontcare);
    let mut names: Vec<PathBuf> = std::fs::read_dir(camvid.join("val"))
        .expect("val photos")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    names.sort();
    let mut total = (0u64, 0u64);
    for photo in names.iter().step_by(names.len().div_ceil(5).max(1)).take(5) {
        let predicted =
            labels_from_photo(&package, photo, ProviderPreference::Cpu).expect("segment");
        let truth_path = camvid
            .join("valannot")
            .join(photo.file_name().expect("name"));
        let truth = scenebrush::io::load_label_png(&truth_path, &classes, dontcare)
            .expect("val labels")
            .resized_nearest(predicted.width(), predicted.height());
        let mut ok = (0u64, 0u64);
        for (p, t) in predicted.data().iter().zip(truth.data()) {
            if Some(*t) != dontcare {
                ok.1 += 1;
                ok.0 += u64::from(p == t);
            }
        }
        println!(
            "{}: pixel accuracy {:.3}",
            photo.display(),
            ok.0 as f64 / ok.1.max(1) as f64
        );
        total = (total.0 + ok.0, total.1 + ok.1);
    }
    let accuracy = total.0 as f64 / total.1.max(1) as f64;
    let measured = package.meta.metrics.as_ref().and_then(|m| m.pixel_accuracy);
    println!("pixel accuracy over 5 val photos: {accuracy:.3} (package: {measured:?})");
    // The segmenter's pixel accuracy over all 101 val photos is 0.86 (its model.json); these
    // five score 0.84-0.90 each. Feeding it wrongly prepared photos scores far less on the same
    // photos: swapped colour channels 0.41-0.64, values in [0, 1] instead of [-1, 1] 0.55-0.62
    // (the largest class alone covers about 0.3). 0.75 lies between the two with room on both
    // sides, so it fails on a pre-processing bug and not on photo-to-photo variation.
    assert!(accuracy > 0.75, "pixel accuracy {accuracy:.3}");
}

/// `scenebrush train` with the real trainer, stopped by SIGTERM sent to the wrapper alone (as a
/// service manager or `timeout` would): the trainer finishes its step, writes its checkpoint,
/// and the wrapper says where it is and exits with 143.
#[cfg(unix)]
#[test]
fn sigterm_to_scenebrush_train_keeps_the_real_trainers_checkpoint() {
    use std::io::{BufRead, BufReader, Read};
    if !matches!(find_trainer(), TrainerSetup::Ready(_)) {
        panic!("this test runs the bundled trainer: run scripts/setup.sh first");
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let (photos, labels, class_file) = tiny_dataset(&tmp.path().join("data"));
    let run = tmp.path().join("run");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_scenebrush"))
        .args(["train", "--photos"])
        .arg(&photos)
        .arg("--labels")
        .arg(&labels)
        .arg("--classes")
        .arg(&class_file)
        .args([
            "--preset",
            "tiny",
            "--height",
            "64",
            "--width",
            "64",
            "--steps",
            "100000",
            "--threads",
            "2",
            "--sample-every",
            "0",
            "--out",
        ])
        .arg(&run)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start scenebrush train");
    let start = Instant::now();
    let mut stderr = child.stderr.take().expect("stderr");
    let stderr = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut seen = Vec::new();
    // The first step line (without a terminal, every tenth of the run; the start line is enough).
    loop {
        match lines.next() {
            Some(Ok(line)) => {
                let started = line.starts_with("training 100000 steps");
                seen.push(line);
                if started {
                    break;
                }
            }
            _ => {
                let _ = child.kill();
                panic!(
                    "no start line: {seen:?}\n{}",
                    stderr.join().unwrap_or_default()
                );
            }
        }
        assert!(start.elapsed() < REAL_TIMEOUT, "{seen:?}");
    }
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("pid"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
    seen.extend(lines.map_while(Result::ok));
    let status = child.wait().expect("wait");
    let stderr = stderr.join().unwrap_or_default();
    println!("real trainer, start to stopped: {:.1?}", start.elapsed());
    assert_eq!(status.code(), Some(143), "{seen:?}\n{stderr}");
    let checkpoint = run.join(CHECKPOINT_FILE);
    assert!(checkpoint.is_file(), "{seen:?}\n{stderr}");
    assert!(
        stderr.contains("training stopped by SIGTERM; checkpoint at step ")
            && stderr.contains(&checkpoint.display().to_string())
            && stderr.contains(&format!(
                "continue with: scenebrush train --out {} --resume",
                run.display()
            )),
        "{stderr}"
    );
    assert!(
        seen.iter()
            .any(|l| l.starts_with("stopped at step") && l.contains("(SIGTERM)")),
        "{seen:?}"
    );
}
