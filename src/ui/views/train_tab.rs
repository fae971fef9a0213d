//! The Train tab: the run's settings (dataset, classes, base model, architecture, steps, name),
//! the dataset check, and the live view of a run (progress, loss curves, the latest sample, the
//! log, Stop / Resume, errors).

use egui::{Color32, RichText, Ui};
use egui_plot::{Legend, Line, Plot, PlotPoints};

use crate::models::{Architecture, Discriminator, ModelPackage};
use crate::training::{
    CHECKPOINT_FILE, COMPILING_TEXT, DiffAugment, ModelPreset, Modulation, RunStatus,
    SETUP_DOWNLOAD, TrainDevice, TrainSettings, TrainerSetup, base_checkpoint, duration_text,
    package_id, trainer_defaults,
};

use crate::ui::resources::{ActiveRun, CheckState, Resources, TrainingRuntime};
use crate::ui::state::{AppState, Command, TrainCommand, TrainPick, View};

use super::memory::ViewMemory;

const LOG_HEIGHT: f32 = 170.0;
const PLOT_HEIGHT: f32 = 230.0;

fn heading(ui: &mut Ui, text: &str) {
    ui.add_space(6.0);
    ui.label(RichText::new(text).small().strong().weak());
}

fn path_text(path: Option<&std::path::Path>) -> RichText {
    match path {
        Some(p) => RichText::new(p.display().to_string()).monospace().small(),
        None => RichText::new("not chosen").weak().italics(),
    }
}

fn train(commands: &mut Vec<Command>, c: TrainCommand) {
    commands.push(Command::Train(c));
}

/// One line summing up a live run, for the status bar.
pub fn training_summary(training: &TrainingRuntime) -> Option<String> {
    let run = training.run.as_ref().filter(|r| r.is_live())?;
    let p = &run.progress;
    let name = &run.plan.record.name;
    Some(match &p.status {
        RunStatus::Starting => format!("Training {name}: starting…"),
        RunStatus::Stopping => format!("Training {name}: stopping at step {}…", p.step),
        RunStatus::Finished => format!("Training {name}: exporting the model…"),
        RunStatus::Running if p.compiling() => {
            format!("Training {name}: compiling the networks before the first step…")
        }
        _ => {
            let mut text = format!("Training {name}: step {}/{}", p.step, p.steps);
            if let Some(rate) = p.images_per_s {
                text.push_str(&format!(" · {rate:.2} img/s"));
            }
            if let Some(eta) = p.eta_s {
                text.push_str(&format!(" · ETA {}", duration_text(eta)));
            }
            text
        }
    })
}

/// The settings column of the Train tab.
pub fn train_settings_ui(
    ui: &mut Ui,
    state: &AppState,
    res: &Resources,
    commands: &mut Vec<Command>,
) {
    let training = &res.training;
    ui.heading("Train a model");
    environment_ui(ui, training, commands);
    let mut s = state.train.clone();
    let live = training.is_training();

    heading(ui, "DATASET");
    ui.horizontal(|ui| {
        if ui
            .button("Choose dataset folder…")
            .on_hover_text(
                "A folder with photos/ and labels/ (label maps with the photos' file names)",
            )
            .clicked()
        {
            train(commands, TrainCommand::Pick(TrainPick::Dataset));
        }
    });
    egui::Grid::new("train-data")
        .num_columns(3)
        .spacing([8.0, 4.0])
        .show(ui, |ui| {
            for (label, pick, path) in [
                ("Photos", TrainPick::Photos, s.photos.as_deref()),
                ("Label maps", TrainPick::Labels, s.labels.as_deref()),
            ] {
                ui.label(label);
                ui.add(egui::Label::new(path_text(path)).truncate());
                if ui
                    .small_button("Choose…")
                    .on_hover_text(pick.title())
                    .clicked()
                {
                    train(commands, TrainCommand::Pick(pick));
                }
                ui.end_row();
            }
        });

    heading(ui, "CLASSES");
    let base = s
        .base_model
        .as_deref()
        .and_then(|id| res.models.package(id));
    let model_classes = match base {
        Some(p) => format!("The classes of {} ({})", p.meta.name, p.meta.classes.len()),
        None => format!("The canvas's classes ({})", res.doc.classes.len()),
    };
    let mut use_file = s.class_file.is_some();
    ui.radio_value(&mut use_file, false, model_classes)
        .on_hover_text("Written to the run folder as a class file the trainer reads");
    ui.horizontal(|ui| {
        ui.radio_value(&mut use_file, true, "A class file");
        if ui.small_button("Choose…").clicked() {
            train(commands, TrainCommand::Pick(TrainPick::ClassFile));
        }
    });
    if use_file {
        ui.add(egui::Label::new(path_text(s.class_file.as_deref())).truncate());
    } else {
        s.class_file = None;
    }

    heading(ui, "START FROM");
    let choices = res.models.model_choices();
    let selected_text = match base {
        Some(p) => p.meta.name.clone(),
        None => match &s.base_model {
            Some(id) => format!("{id} (unavailable)"),
            None => "Scratch (random weights)".into(),
        },
    };
    ui.horizontal(|ui| {
        let label = ui.label("Fine-tune from");
        egui::ComboBox::from_id_salt("train-base")
            .selected_text(selected_text)
            .width(200.0)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut s.base_model, None, "Scratch (random weights)");
                for (id, name) in &choices {
                    if res.models.package(id).is_some() {
                        ui.selectable_value(&mut s.base_model, Some(id.clone()), name);
                    }
                }
            })
            .response
            .labelled_by(label.id);
    });
    match base {
        Some(p) => base_model_ui(ui, p),
        None if s.base_model.is_some() => {
            ui.colored_label(
                ui.visuals().error_fg_color,
                "That model is not available; choose another or train from scratch.",
            );
        }
        None => scratch_ui(ui, &mut s),
    }

    heading(ui, "TRAINING");
    let pairs = training.pairs();
    egui::Grid::new("train-length")
        .num_columns(2)
        .spacing([8.0, 4.0])
        .show(ui, |ui| {
            let label = ui.label("Steps");
            ui.horizontal(|ui| {
                ui.add(
                    egui::DragValue::new(&mut s.steps)
                        .range(1..=10_000_000)
                        .speed(10.0),
                )
                .labelled_by(label.id)
                .on_hover_text("One step trains on one batch");
                if let Some(pairs) = pairs.filter(|p| *p > 0) {
                    let mut epochs = s.epochs(pairs);
                    ui.label("=");
                    let r = ui.add(
                        egui::DragValue::new(&mut epochs)
                            .range(0.01..=100_000.0)
                            .speed(0.1)
                            .max_decimals(2)
                            .suffix(" epochs"),
                    );
                    if r.changed() {
                        s.steps = s.steps_for_epochs(epochs, pairs);
                    }
                    r.on_hover_text(format!("Passes over the {pairs} pairs"));
                }
            });
            ui.end_row();
            if pairs.is_none() {
                ui.label("");
                ui.label(
                    RichText::new("Check the dataset to see the epochs.")
                        .weak()
                        .small(),
                );
                ui.end_row();
            }
            ui.label("Batch size");
            ui.add(egui::DragValue::new(&mut s.batch_size).range(1..=64));
            ui.end_row();
            ui.label("Augment");
            diffaug_ui(ui, &mut s.diffaug);
            ui.end_row();
            ui.label("Device");
            egui::ComboBox::from_id_salt("train-device")
                .selected_text(s.device.label())
                .show_ui(ui, |ui| {
                    for d in TrainDevice::ALL {
                        ui.selectable_value(&mut s.device, *d, d.label());
                    }
                });
            ui.end_row();
        });

    heading(ui, "NEW MODEL");
    ui.horizontal(|ui| {
        let label = ui.label("Model name");
        ui.add(
            egui::TextEdit::singleline(&mut s.name)
                .hint_text("e.g. My streets")
                .desired_width(200.0),
        )
        .labelled_by(label.id);
    });
    let id = package_id(&s.name);
    if !id.is_empty() {
        let dir = training
            .models_dir
            .as_ref()
            .map_or_else(|| id.clone(), |d| d.join(&id).display().to_string());
        ui.label(
            RichText::new(format!("id {id}, saved to {dir}"))
                .weak()
                .small(),
        );
    }

    ui.add_space(8.0);
    ui.horizontal(|ui| {
        let ready = training.setup.launcher().is_ok();
        let checking = training.checking();
        if ui
            .add_enabled(ready && !checking, egui::Button::new("Check dataset"))
            .on_hover_text("Run the trainer's dataset check: every problem, file by file")
            .clicked()
        {
            train(commands, TrainCommand::Check);
        }
        let start = ui
            .add_enabled(
                ready && !live,
                egui::Button::new(RichText::new("Start").strong()),
            )
            .on_hover_text("Start training in the background; painting goes on meanwhile")
            .on_disabled_hover_text(if live {
                "A run is in progress"
            } else {
                "The trainer is not available"
            });
        if start.clicked() {
            train(commands, TrainCommand::Start);
        }
    });
    if let Some(message) = &training.message {
        ui.add(egui::Label::new(RichText::new(message).color(ui.visuals().error_fg_color)).wrap());
    }
    check_ui(ui, training);
    runs_ui(ui, training, commands);

    if s != state.train {
        train(commands, TrainCommand::Set(s));
    }
}

fn base_model_ui(ui: &mut Ui, base: &ModelPackage) {
    let m = &base.meta;
    ui.label(
        RichText::new(format!(
            "{} · {}×{} · {} classes (architecture and size come from it)",
            m.architecture_line(),
            m.width,
            m.height,
            m.classes.len()
        ))
        .weak()
        .small(),
    );
    if base_checkpoint(base).is_none() {
        ui.add(
            egui::Label::new(
                RichText::new(format!(
                    "{} has no {CHECKPOINT_FILE} in {}: fine-tuning starts from the training \
                     checkpoint, which this package does not ship. Choose another model or train \
                     from scratch.",
                    m.name,
                    base.dir.display()
                ))
                .color(ui.visuals().warn_fg_color),
            )
            .wrap(),
        );
    }
}

/// DiffAugment: on/off, and its three parts once on.
fn diffaug_ui(ui: &mut Ui, d: &mut DiffAugment) {
    ui.vertical(|ui| {
        ui.checkbox(&mut d.on, "DiffAugment (small datasets)")
            .on_hover_text(
                "DiffAugment (Zhao et al., NeurIPS 2020): every image the discriminator sees, \
                 photo and generated alike, gets the same random differentiable changes, so it \
                 cannot memorise a small dataset while the generator still learns through them. \
                 For a few hundred photos; it costs almost no time. A fine-tune chooses it \
                 afresh; a resumed run keeps its own.",
            );
        if d.on {
            ui.horizontal(|ui| {
                ui.checkbox(&mut d.color, "color")
                    .on_hover_text("Brightness, saturation and contrast");
                ui.checkbox(&mut d.translation, "translation")
                    .on_hover_text("Shifts by up to 1/8 of each side; the label map moves along");
                ui.checkbox(&mut d.cutout, "cutout")
                    .on_hover_text("Blanks a half-size rectangle; its labels stay");
            });
            if !d.active() {
                ui.label(
                    RichText::new("No part chosen: DiffAugment stays off.")
                        .weak()
                        .small(),
                );
            }
        }
    });
}

fn scratch_ui(ui: &mut Ui, s: &mut TrainSettings) {
    egui::Grid::new("train-arch")
        .num_columns(2)
        .spacing([8.0, 4.0])
        .show(ui, |ui| {
            ui.label("Generator");
            egui::ComboBox::from_id_salt("train-generator")
                .selected_text(s.generator.display_name())
                .show_ui(ui, |ui| {
                    for g in Architecture::ALL {
                        ui.selectable_value(&mut s.generator, *g, g.display_name());
                    }
                });
            ui.end_row();
            // SPADE's generator only; a fine-tune (no scratch_ui) keeps its checkpoint's.
            if s.generator == Architecture::Spade {
                ui.label("Modulation");
                ui.horizontal(|ui| {
                    for m in Modulation::ALL {
                        ui.radio_value(&mut s.modulation, *m, m.label())
                            .on_hover_text(
                                "CLADE: per-class modulation, about 2x faster to render and 1.5x \
                                 faster to train; quality judged per model by the evaluation",
                            );
                    }
                });
                ui.end_row();
            }
            ui.label("Discriminator");
            egui::ComboBox::from_id_salt("train-discriminator")
                .selected_text(s.discriminator.choice_label())
                .width(220.0)
                .show_ui(ui, |ui| {
                    for d in Discriminator::ALL {
                        ui.selectable_value(&mut s.discriminator, *d, d.choice_label());
                    }
                });
            ui.end_row();
            if s.discriminator == Discriminator::Oasis {
                let label = ui.label("LabelMix weight");
                ui.add(
                    egui::DragValue::new(&mut s.labelmix_weight)
                        .range(0.0..=100.0)
                        .speed(0.1)
                        .max_decimals(2),
                )
                .labelled_by(label.id)
                .on_hover_text(format!(
                    "OASIS's LabelMix term (d_labelmix): each step mixes every photo with its \
                     generated image class by class, and the discriminator's output on the mix \
                     must be the same mix of its outputs on the two. {} as in the paper; 0 turns \
                     it off.",
                    trainer_defaults::LAMBDA_LABELMIX
                ));
                ui.end_row();
            }
            ui.label("Styles");
            ui.checkbox(&mut s.varied_styles, "Varied styles")
                .on_hover_text(
                    "Adds the mode-seeking term: each step draws two styles of a layout and rewards \
                     them for differing, so that \"New style\" changes the image. Each step then \
                     renders two images (about 1.7x the time).",
                );
            ui.end_row();
            ui.label("Size preset");
            egui::ComboBox::from_id_salt("train-preset")
                .selected_text(s.preset.label())
                .width(220.0)
                .show_ui(ui, |ui| {
                    for p in ModelPreset::ALL {
                        ui.selectable_value(&mut s.preset, *p, p.label());
                    }
                });
            ui.end_row();
            ui.label("Image size");
            ui.horizontal(|ui| {
                ui.add(
                    egui::DragValue::new(&mut s.width)
                        .range(32..=2048)
                        .speed(32.0)
                        .suffix(" wide"),
                );
                ui.label("×");
                ui.add(
                    egui::DragValue::new(&mut s.height)
                        .range(32..=2048)
                        .speed(32.0)
                        .suffix(" high"),
                );
            });
            ui.end_row();
        });
}

fn environment_ui(ui: &mut Ui, training: &TrainingRuntime, commands: &mut Vec<Command>) {
    match &training.setup {
        TrainerSetup::Ready(launcher) => {
            ui.label(RichText::new("Trainer ready").weak().small())
                .on_hover_text(launcher.describe(&[]));
        }
        TrainerSetup::NoEnvironment {
            python,
            setup_script,
            ..
        } => {
            egui::Frame::group(ui.style())
                .stroke(egui::Stroke::new(1.0, ui.visuals().warn_fg_color))
                .show(ui, |ui| {
                    ui.add(
                        egui::Label::new(format!(
                            "The trainer's Python environment is not set up yet ({} is missing). \
                             Setting it up runs {}: it downloads PyTorch and the other packages, \
                             {SETUP_DOWNLOAD}, and takes a few minutes. If it needs system \
                             packages it asks for sudo; then run it in a terminal instead.",
                            python.display(),
                            setup_script.display()
                        ))
                        .wrap(),
                    );
                    let running = training.setting_up();
                    if ui
                        .add_enabled(
                            !running,
                            egui::Button::new("Set up the trainer environment"),
                        )
                        .clicked()
                    {
                        train(commands, TrainCommand::RunSetup);
                    }
                });
        }
        TrainerSetup::NotFound { .. } => {
            if let Err(e) = training.setup.launcher() {
                ui.add(
                    egui::Label::new(
                        RichText::new(e.to_string()).color(ui.visuals().error_fg_color),
                    )
                    .wrap(),
                );
            }
        }
    }
    if let Some(job) = &training.setup_job {
        let status = match job.exit {
            None => "Setting up the environment…".to_string(),
            Some(exit) if exit.success() => "The environment is ready.".to_string(),
            Some(exit) => format!("The setup failed ({exit}); see its output."),
        };
        ui.label(status);
        log_pane(
            ui,
            "setup-log",
            job.log.iter().map(String::as_str),
            job.log.len(),
        );
    }
}

fn check_ui(ui: &mut Ui, training: &TrainingRuntime) {
    match &training.check {
        None => {}
        Some(CheckState::Running { .. }) => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Checking the dataset…");
            });
        }
        Some(CheckState::Failed(message)) => {
            ui.add(
                egui::Label::new(
                    RichText::new(format!("The check could not run: {message}"))
                        .color(ui.visuals().error_fg_color),
                )
                .wrap(),
            );
        }
        Some(CheckState::Done(report)) => problems_ui(ui, report, "dataset-problems"),
    }
}

/// The check's verdict and its problems, one row per file.
fn problems_ui(ui: &mut Ui, report: &crate::training::CheckReport, id: &str) {
    if report.ok {
        ui.colored_label(
            Color32::from_rgb(110, 190, 120),
            format!("Dataset OK: {} pairs, no problems", report.pairs),
        );
        return;
    }
    ui.colored_label(
        ui.visuals().error_fg_color,
        format!(
            "The dataset has {} problem{} ({} good pairs); fix them and check again:",
            report.problems.len(),
            if report.problems.len() == 1 { "" } else { "s" },
            report.pairs
        ),
    );
    egui::ScrollArea::vertical()
        .id_salt(id)
        .max_height(200.0)
        .show(ui, |ui| {
            egui::Grid::new(id)
                .num_columns(2)
                .striped(true)
                .spacing([8.0, 3.0])
                .show(ui, |ui| {
                    for p in &report.problems {
                        let file = p
                            .path
                            .as_ref()
                            .and_then(|p| p.file_name())
                            .map_or_else(|| "—".to_string(), |n| n.to_string_lossy().into_owned());
                        ui.label(RichText::new(file).monospace()).on_hover_text(
                            p.path
                                .as_ref()
                                .map_or_else(String::new, |p| p.display().to_string()),
                        );
                        ui.add(egui::Label::new(&p.message).wrap())
                            .on_hover_text(&p.kind);
                        ui.end_row();
                    }
                });
        });
}

fn runs_ui(ui: &mut Ui, training: &TrainingRuntime, commands: &mut Vec<Command>) {
    if training.runs.is_empty() {
        return;
    }
    let shown = training.run.as_ref().map(|r| r.plan.run_dir.as_path());
    let runs: Vec<_> = training
        .runs
        .iter()
        .filter(|r| Some(r.dir.as_path()) != shown)
        .take(8)
        .collect();
    if runs.is_empty() {
        return;
    }
    heading(ui, "EARLIER RUNS");
    let live = training.is_training();
    for run in runs {
        ui.horizontal(|ui| {
            let status = if run.exported {
                "done"
            } else if run.has_checkpoint {
                "stopped"
            } else {
                "no checkpoint"
            };
            ui.label(&run.record.name)
                .on_hover_text(run.dir.display().to_string());
            ui.label(RichText::new(status).weak().small());
            if run.resumable()
                && ui
                    .add_enabled(!live, egui::Button::new("Resume").small())
                    .on_hover_text("Continue this run from its checkpoint")
                    .clicked()
            {
                train(commands, TrainCommand::Resume(run.dir.clone()));
            }
        });
    }
}

/// The live view of the run on screen.
pub fn train_run_ui(
    ui: &mut Ui,
    res: &Resources,
    memory: &mut ViewMemory,
    commands: &mut Vec<Command>,
) {
    let Some(run) = &res.training.run else {
        ui.add_space(40.0);
        ui.vertical_centered(|ui| {
            ui.label(
                RichText::new(
                    "No run yet. Choose a dataset, a model to fine-tune and a name, then press \
                     Start.\nTraining runs in the background: the Paint and Compare tabs keep \
                     working.",
                )
                .weak(),
            );
        });
        return;
    };
    run_header_ui(ui, run, commands);
    ui.separator();
    let bounds = egui::ScrollArea::vertical()
        .id_salt("train-run")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            if let Some(report) = &run.progress.check
                && !report.ok
            {
                problems_ui(ui, report, "run-problems");
            }
            heading(ui, "LOSSES");
            let bounds = loss_plot_ui(ui, run);
            heading(ui, "LATEST SAMPLE");
            match run.sample.as_ref().zip(memory.sample.as_ref()) {
                Some((sample, shown)) => {
                    let size = sample.size();
                    let width = ui.available_width().min(size[0] as f32 * 2.0);
                    let height = width * size[1] as f32 / size[0].max(1) as f32;
                    ui.add(
                        egui::Image::new(&shown.texture)
                            .fit_to_exact_size(egui::vec2(width, height))
                            .alt_text(format!("Sample at step {}", sample.step)),
                    )
                    .on_hover_text(sample.path.display().to_string());
                    ui.label(
                        RichText::new(format!(
                            "Step {}: rows are the label maps, the photos and the generated images",
                            sample.step
                        ))
                        .weak()
                        .small(),
                    );
                }
                None => {
                    ui.label(RichText::new("No sample yet.").weak());
                }
            }
            heading(ui, "LOG");
            let log = &run.progress.log;
            log_pane(ui, "train-log", log.iter().map(String::as_str), log.len());
            bounds
        })
        .inner;
    memory.plot_bounds = bounds;
}

fn run_header_ui(ui: &mut Ui, run: &ActiveRun, commands: &mut Vec<Command>) {
    let p = &run.progress;
    let record = &run.plan.record;
    ui.horizontal(|ui| {
        ui.heading(&record.name);
        let (text, color) = match &p.status {
            RunStatus::Starting => ("starting".to_string(), ui.visuals().weak_text_color()),
            RunStatus::Running if p.compiling() => {
                ("compiling".to_string(), ui.visuals().hyperlink_color)
            }
            RunStatus::Running => ("training".to_string(), ui.visuals().hyperlink_color),
            RunStatus::Stopping => ("stopping".to_string(), ui.visuals().warn_fg_color),
            RunStatus::Stopped { .. } => ("stopped".to_string(), ui.visuals().warn_fg_color),
            RunStatus::Finished => ("exporting".to_string(), ui.visuals().hyperlink_color),
            RunStatus::Exported { .. } => ("done".to_string(), Color32::from_rgb(110, 190, 120)),
            RunStatus::Failed { .. } => ("failed".to_string(), ui.visuals().error_fg_color),
        };
        ui.label(RichText::new(text).strong().color(color));
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let live = run.is_live();
            if live {
                let stopping = matches!(p.status, RunStatus::Stopping);
                if ui
                    .add_enabled(!stopping, egui::Button::new("Stop"))
                    .on_hover_text(
                        "Stop after the current step; a checkpoint is kept and the run can be resumed",
                    )
                    .clicked()
                {
                    train(commands, TrainCommand::Stop);
                }
            } else {
                if ui.button("Close").on_hover_text("Back to an empty run view").clicked() {
                    train(commands, TrainCommand::CloseRun);
                }
                // A checkpoint written during this run (or named by its stop) can be continued.
                let resumable = matches!(
                    p.status,
                    RunStatus::Stopped { .. } | RunStatus::Failed { .. }
                ) && p.checkpoint.is_some();
                if resumable
                    && ui
                        .button("Resume")
                        .on_hover_text("Continue from the last checkpoint")
                        .clicked()
                {
                    train(commands, TrainCommand::Resume(run.plan.run_dir.clone()));
                }
            }
        });
    });
    let fraction = p.fraction();
    // Between a start that compiles and the first step the trainer is silent for minutes.
    let compiling = run.is_live() && p.compiling();
    let mut bar_text = format!("step {} of {} ({:.0}%)", p.step, p.steps, fraction * 100.0);
    if compiling {
        bar_text.push_str(" · compiling the networks…");
    }
    ui.add(
        egui::ProgressBar::new(fraction)
            .text(bar_text)
            .animate(run.is_live() && (matches!(p.status, RunStatus::Starting) || compiling)),
    );
    if compiling {
        let label = ui.add(egui::Label::new(COMPILING_TEXT).wrap());
        if let Some(note) = &p.compile_note {
            label.on_hover_text(note);
        }
    }
    let mut facts = Vec::new();
    if compiling {
        // A rate from before a resume, or an ETA, would not count the compilation.
        facts.push("ETA after the first steps".to_string());
    } else {
        if let Some(rate) = p.images_per_s {
            facts.push(format!("{rate:.2} images/s"));
        }
        if let Some(eta) = p.eta_s.filter(|_| run.is_live()) {
            facts.push(format!("ETA {}", duration_text(eta)));
        }
    }
    if let Some(epoch) = p.epoch {
        facts.push(format!("epoch {epoch:.2}"));
    }
    if let Some(device) = &p.device {
        facts.push(format!("on {device}"));
    }
    if let Some(images) = p.images {
        facts.push(format!("{images} training pairs"));
    }
    facts.extend(p.recipe.facts());
    if !facts.is_empty() {
        ui.label(facts.join(" · "));
    }
    ui.label(
        RichText::new(format!("Run folder {}", run.plan.run_dir.display()))
            .weak()
            .small(),
    );
    match &p.status {
        RunStatus::Failed { message } => {
            egui::Frame::group(ui.style())
                .stroke(egui::Stroke::new(1.0, ui.visuals().error_fg_color))
                .show(ui, |ui| {
                    ui.label(
                        RichText::new("Training failed")
                            .strong()
                            .color(ui.visuals().error_fg_color),
                    );
                    ui.add(egui::Label::new(message.as_str()).wrap().selectable(true));
                    if let Some(exit) = p.exit {
                        ui.label(RichText::new(format!("The trainer ended with {exit}.")).weak());
                    }
                });
        }
        RunStatus::Stopped { reason, .. } => {
            ui.label(format!(
                "Stopped at step {} ({reason}); the checkpoint is kept: Resume continues the run.",
                p.step
            ));
        }
        RunStatus::Exported { id, path } => {
            ui.horizontal(|ui| {
                ui.label(format!("Saved as model {id} in {}.", path.display()));
                if ui.button("Compare").clicked() {
                    commands.push(Command::SetView(View::Compare));
                }
            });
        }
        _ => {}
    }
}

/// The loss curves; returns the plot's bounds (min, max) for checks.
fn loss_plot_ui(ui: &mut Ui, run: &ActiveRun) -> Option<([f64; 2], [f64; 2])> {
    if run.progress.losses.is_empty() {
        ui.label(RichText::new("No losses yet: they appear after the first steps.").weak());
        return None;
    }
    let response = Plot::new("train-losses")
        .legend(Legend::default())
        .height(PLOT_HEIGHT)
        .x_axis_label("step")
        .allow_scroll(false)
        .show(ui, |plot| {
            for (name, points) in &run.progress.losses {
                plot.line(Line::new(name.as_str(), PlotPoints::from(points.clone())));
            }
        });
    let bounds = response.transform.bounds();
    Some((bounds.min(), bounds.max()))
}

fn log_pane<'a>(ui: &mut Ui, id: &str, lines: impl Iterator<Item = &'a str>, count: usize) {
    let lines: Vec<&str> = lines.collect();
    let row_height = ui.text_style_height(&egui::TextStyle::Monospace);
    egui::Frame::group(ui.style()).show(ui, |ui| {
        egui::ScrollArea::both()
            .id_salt(id)
            .max_height(LOG_HEIGHT)
            .auto_shrink([false, true])
            .stick_to_bottom(true)
            .show_rows(ui, row_height, count, |ui, range| {
                for line in &lines[range.start.min(lines.len())..range.end.min(lines.len())] {
                    ui.label(RichText::new(*line).monospace().small());
                }
            });
    });
}
